//! Who may call what: roles, the authenticated caller, and the checks every command makes.
//!
//! The matrix (also in `ARCHITECTURE.md`):
//! - administrators may do everything, on every KKM;
//! - senior cashiers and cashiers work only on the KKMs they are bound to, and manage nothing
//!   (no licence, KKM or operator changes);
//! - nobody sees a PIN: they are stored only as hashes (`fiscal::pin`);
//! - a tax inspector (4) works like a cashier on its bound KKMs, but its sales are control receipts and it
//!   makes no other document (no money placement, no report).
use crate::country::kz::error::{FiscalError, FiscalResult};
use crate::country::kz::text::Text;
use crate::store::{KkmRow, OperatorRow};

/// The seed's OperatorRoleTypeEnum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Administrator = 1,
    SeniorCashier = 2,
    Cashier = 3,
    /// The tax inspector (vendor feature of 2025): its sales are control receipts, nothing fiscal.
    Inspector = 4,
}

impl Role {
    /// The role for its wire number.
    pub fn from_code(code: i64) -> FiscalResult<Role> {
        match code {
            1 => Ok(Role::Administrator),
            2 => Ok(Role::SeniorCashier),
            3 => Ok(Role::Cashier),
            4 => Ok(Role::Inspector),
            other => Err(FiscalError::InvalidRole(other)),
        }
    }
}

/// The operator a request was authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

impl Caller {
    /// The caller for a stored operator (roles are checked on write, so the fallback never applies in practice).
    pub fn from_operator(op: &OperatorRow) -> Caller {
        Caller { id: op.id, name: op.name.clone(), role: Role::from_code(op.role.into()).unwrap_or(Role::Cashier) }
    }

    /// Refuses anyone but an administrator; `action` says what was refused, in both languages.
    pub fn require_admin(&self, action: Text) -> FiscalResult<()> {
        if self.role == Role::Administrator {
            Ok(())
        } else {
            Err(FiscalError::AccessDenied(Text {
                ru: format!("только администратор может {}", action.ru),
                kk: format!("тек әкімші {} алады", action.kk),
            }))
        }
    }

    /// Whether this caller may work on `kkm`: administrators always, others when bound to it.
    pub fn may_use(&self, kkm: &KkmRow) -> bool {
        self.role == Role::Administrator || kkm.settings.bindings.contains(&self.id)
    }

    /// Refuses a caller not bound to `kkm`.
    pub fn require_binding(&self, kkm: &KkmRow) -> FiscalResult<()> {
        if self.may_use(kkm) { Ok(()) } else { Err(FiscalError::NotBound(kkm.settings.ofd_id)) }
    }
}
