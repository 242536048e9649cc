//! The columns a rollback adds to the recap (versions, revisions, what it loses, downtime) and the
//! lines under it (a dry run's plan, the commands that finish a hub left down by hand).

use super::RecapColumns;
use crate::jobs::RollbackReport;
use crate::plan::RollbackPlan;
use crate::steps::Losses;

impl RecapColumns for RollbackReport {
    fn headers() -> Vec<&'static str> {
        vec!["VERSION", "REVISION", "LOST", "DOWNTIME"]
    }

    fn cells(&self) -> Vec<String> {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        let after = if self.plan.is_some() {
            format!("{} (planned)", or_dash(&self.version_target))
        } else {
            or_dash(&self.version_after)
        };
        let short = |r: &Option<String>| r.as_ref().map(|r| r.chars().take(12).collect::<String>());
        vec![
            format!("{} → {after}", or_dash(&self.version_before)),
            format!(
                "{} → {}",
                or_dash(&short(&self.revision_before)),
                or_dash(&short(&self.revision_after))
            ),
            self.losses
                .as_ref()
                .map(Losses::describe)
                .unwrap_or_default(),
            self.downtime_seconds
                .map(|s| format!("{s:.1}s"))
                .unwrap_or_default(),
        ]
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = self
            .plan
            .as_ref()
            .map(RollbackPlan::lines)
            .unwrap_or_default();
        notes.extend(super::recap_columns::by_hand(&self.by_hand));
        notes
    }
}
