//! How errors reach the operator: the renderers every stage uses ([`render`], [`one_line`]),
//! and the one error that stops a whole command ([`FatalError`]).

mod fatal;
mod render;

pub use fatal::FatalError;
pub use render::{one_line, render};
