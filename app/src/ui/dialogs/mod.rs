mod apply;
mod bind_eip;
mod confirm;
mod rename;

pub use apply::ApplyDialog;
pub use bind_eip::BindEipDialog;
pub use confirm::ConfirmDeleteDialog;
pub use rename::RenameDialog;
