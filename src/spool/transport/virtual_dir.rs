//! The virtual printer: each job's bytes become one file `<job-id>.<ext>` in a folder
//! (`escpos`, `png` or `txt` after the job's format).
//!
//! Files are written to a temporary name, synced, then renamed, so a reader never sees half
//! a job and a crash leaves no partial file under the final name.
use super::{Transport, TransportError};
use crate::spool::status::PrinterStatus;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A folder that receives jobs.
pub struct VirtualTransport {
    dir: PathBuf,
    buffer: Vec<u8>,
    describe: String,
}

impl VirtualTransport {
    /// Creates the folder if needed.
    pub fn open(dir: &Path) -> Result<Self, TransportError> {
        let describe = format!("virtual {}", dir.display());
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| TransportError::from_io(&describe, &e))?;
        Ok(Self { dir: dir.to_path_buf(), buffer: Vec::new(), describe })
    }
}

impl Transport for VirtualTransport {
    fn write_all(&mut self, data: &[u8]) -> Result<(), TransportError> {
        self.buffer.extend_from_slice(data);
        Ok(())
    }

    fn read_status(&mut self, _timeout: Duration) -> Result<Option<PrinterStatus>, TransportError> {
        Ok(None)
    }

    fn describe(&self) -> String {
        self.describe.clone()
    }

    fn end_job(&mut self, file_name: &str) -> Result<(), TransportError> {
        let final_path = self.dir.join(file_name);
        let tmp = self.dir.join(format!(".{file_name}.tmp"));
        let data = std::mem::take(&mut self.buffer);
        let write = || -> std::io::Result<()> {
            let mut options = fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            // A printed receipt is as private as the journal it comes from (0600), never written through a link.
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
            }
            let mut f = options.open(&tmp)?;
            f.write_all(&data)?;
            f.sync_all()?;
            fs::rename(&tmp, &final_path)
        };
        // The final name appears only by the rename, so a failure delivered nothing.
        write().map_err(|e| TransportError::from_io(&self.describe, &e).nothing_delivered())
    }
}
