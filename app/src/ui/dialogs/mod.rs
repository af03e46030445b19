mod apply;
mod confirm;
mod rename;

pub use apply::ApplyDialog;
pub use confirm::ConfirmDeleteDialog;
pub use rename::RenameDialog;
