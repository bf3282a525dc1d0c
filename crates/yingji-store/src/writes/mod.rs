//! Typed writes of each area: the only way code outside the store changes the query tables
//! that have no row type of their own. Each becomes its SQL here; callers never write SQL.

mod accounts;
mod calls;
mod cases;
mod deliveries;
mod directory;
mod records;
mod releases;
mod reports;
mod screening;
mod subjects;
pub use accounts::AccountWrite;
pub use calls::CallWrite;
pub use cases::{CaseRow, CaseWrite, PetitionerField, StatCounts};
pub use deliveries::DeliveryWrite;
pub use directory::DirectoryWrite;
pub use records::RecordWrite;
pub use releases::ReleaseWrite;
pub use reports::ReportWrite;
pub use screening::ScreeningWrite;
pub use subjects::SubjectKeyWrite;

use crate::rows::Stmt;

/// Appends the statements of one typed write.
pub(crate) trait Statements {
    fn statements(self, out: &mut Vec<Stmt>);
}
