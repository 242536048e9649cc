//! Who manages a Python environment's packages on a host: a choice of the inventory that the
//! steps, the plan and the archive's manifest all speak of.

use serde::{Deserialize, Serialize};

/// The installer that manages the hub's Python environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Installer {
    /// `python -m pip` of the hub env.
    #[default]
    Pip,
    /// `uv pip --python HUB_PYTHON`.
    Uv,
    /// `conda install` in the hub's conda env.
    Conda,
}

impl Installer {
    /// The name as written in the inventory.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pip => "pip",
            Self::Uv => "uv",
            Self::Conda => "conda",
        }
    }
}
