//! `hubfleet inventory`: the resolved hosts as a table or JSON, without connecting anywhere.

use comfy_table::{ContentArrangement, Table, presets};

use super::targets;
use crate::cli::InventoryArgs;
use crate::error::FatalError;
use crate::inventory::{Host, Role, Targets};
use crate::printer::Printer;

/// The JSON body of `inventory`: the resolved hosts.
#[derive(Debug, serde::Serialize)]
struct Body<'a> {
    /// Always 0: a bad inventory is an error, not a result.
    exit_code: u8,
    hosts: &'a [Host],
}

/// Prints the selected hosts.
pub fn run(args: &InventoryArgs, printer: &Printer) -> Result<u8, FatalError> {
    let hosts = targets::select(&args.target, Targets::Every, printer)?;
    super::output::probe(&args.output)?;
    let body = Body {
        exit_code: 0,
        hosts: &hosts,
    };
    super::output::emit(&args.output, printer, "inventory", body, || {
        table(&hosts, super::terminal_width())
    });
    Ok(0)
}

/// The hosts with the variables an operator checks first.
pub fn table(hosts: &[Host], width: u16) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::ASCII_BORDERS_ONLY_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(["HOST", "SSH", "JUMP", "GROUPS", "HUB"]);
    for host in hosts {
        let mut jump = Vec::new();
        let mut hop = host.ssh.jump.as_deref();
        while let Some(j) = hop {
            jump.insert(0, format!("{}@{}:{}", j.user, j.address, j.port));
            hop = j.jump.as_deref();
        }
        table.add_row([
            host.name.clone(),
            format!("{}@{}:{}", host.ssh.user, host.ssh.address, host.ssh.port),
            jump.join(" -> "),
            host.groups.join(","),
            match host.role {
                Role::Hub => format!(
                    "env {} ({})\nconfig {}\nworkdir {}",
                    host.hub.env,
                    host.hub.installer.as_str(),
                    host.hub.config,
                    host.hub.workdir
                ),
                Role::Helper => "helper (hub = false)".to_owned(),
            },
        ]);
    }
    format!("{table}\n{} hosts", hosts.len())
}
