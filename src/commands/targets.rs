//! Shared by every subcommand: load the inventory with `-e`, apply `--limit`.

use std::path::PathBuf;

use crate::cli::TargetArgs;
use crate::inventory::{
    Host, Inventory, InventoryError, Limit, ResolveContext, SshConfig, Targets, connection_vars,
    parse_extra_vars,
};
use crate::printer::{Printer, Verbosity};

/// The selected hosts, resolved, in inventory order.
/// Lines of `~/.ssh/config` that could not be honoured are printed as warnings first.
/// `targets` says whether helpers (`hub = false`) may be among them.
pub fn select(
    args: &TargetArgs,
    targets: Targets,
    printer: &Printer,
) -> Result<Vec<Host>, InventoryError> {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/"), PathBuf::from);
    // `-u`/`--private-key`, then `-e` above them, as Ansible ranks them.
    let mut extra_vars = connection_vars(args.user.as_deref(), &args.private_keys);
    extra_vars.overlay(&parse_extra_vars(&args.extra_vars)?);
    let context = ResolveContext {
        ssh_config: SshConfig::load(&home)?,
        home,
        local_user: std::env::var("USER").unwrap_or_else(|_| "root".to_owned()),
        extra_vars,
    };
    if printer.verbosity > Verbosity::Quiet {
        for warning in context.ssh_config.warnings() {
            printer.err(&format!("warning: {warning}"));
        }
    }
    let inventory = Inventory::load(&args.inventory, &context)?;
    let limit = match &args.limit {
        Some(text) => Limit::parse(text)?,
        None => Limit::all(),
    };
    Ok(limit
        .select(&inventory, targets)?
        .into_iter()
        .cloned()
        .collect())
}
