//! Ukraine: the front for POS apps written for the Vchasno.Kasa Device Manager (the local "DM"), over the
//! shared ledger, receipt step, layout engine and spooler.
//!
//! - `front`: the DM routes (`/dm/execute`, `/dm/execute-pkg`, `/dm/execute-prn`, `/dm/api/v1/sys_info`,
//!   the printed-form settings) and the cloud-style `/api/v3/fiscal/execute`, on their own listener;
//! - `tasks`: the envelope and the tasks, converting only;
//! - `answer`: the answers' `info` in the shapes and types the public DM clients bind;
//! - `settings`: the DM's settings as the clients read and write them;
//! - `rules`: validation and sums, pure (kopiyky, the seed's allowed characters, tax groups);
//! - `prro`: the test-mode ПРРО behind the ledger's `Fiscaliser`;
//! - `forms`: the printed forms (`pf_text`, `pf_image`, `pf_pdf`, `pf_doccmd`) from `templates/ua/`;
//! - `errors`: the `res` codes and their Ukrainian texts.
pub mod answer;
pub mod errors;
pub mod forms;
pub mod front;
pub mod prro;
pub mod rules;
pub mod settings;
pub mod tasks;
