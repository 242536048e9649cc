//! `hubfleet man`: the man pages (roff, section 1), generated from the clap definition, so they
//! list exactly the subcommands and flags the binary takes. To stdout, the main page, which lists
//! the subcommands; with `--dir`, that page and one per subcommand (`hubfleet-upgrade.1`…), which
//! the main page refers to.

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::FatalError;
use crate::printer::Printer;

/// Prints the main page, or writes every page into `--dir`.
pub fn run(args: &ManArgs, printer: &Printer) -> Result<u8, FatalError> {
    if let Some(dir) = &args.dir {
        std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
            .map_err(|source| FatalError::ManPages {
                dir: dir.clone(),
                source,
            })?;
        return Ok(0);
    }
    let mut page = Vec::new();
    // Rendering into memory cannot fail; were it to, the page would be cut short, not wrong.
    let _ = clap_mangen::Man::new(Cli::command()).render(&mut page);
    printer.out(String::from_utf8_lossy(&page).trim_end());
    Ok(0)
}
