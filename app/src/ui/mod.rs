pub mod components;
pub mod dialogs;
pub mod live;
pub mod pages;
