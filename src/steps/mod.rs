//! The steps of a host's run, one file each. Steps are async, talk to the host over its session,
//! report through events and never print.

mod gather_facts;

pub use gather_facts::gather_facts;
