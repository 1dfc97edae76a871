//! Where jobs live in `ENV=devel`: a folder with `inputs/<id>` (the uploaded file, removed once
//! its job is finished) and `jobs/<id>.json` (the job's record, with its result when done).
//! A record is written whole to a temporary file and renamed into place, so a reader never
//! sees half of one and a crash leaves the previous version.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::{Job, is_job_id};

/// A store call that failed, with the file it was about.
#[derive(Debug, thiserror::Error)]
#[error("job store: cannot {action} {path}")]
pub struct StoreError {
    action: &'static str,
    path: String,
    #[source]
    source: io::Error,
}

impl StoreError {
    /// A failed `action` on the file at `path`.
    pub fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        Self {
            action,
            path: path.display().to_string(),
            source,
        }
    }

    fn new<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> Self + 'a {
        move |source| Self {
            action,
            path: path.display().to_string(),
            source,
        }
    }

    /// True when the disk is full (the client is told 507, not 500).
    pub fn is_disk_full(&self) -> bool {
        self.source.kind() == io::ErrorKind::StorageFull
    }
}

/// A folder of job inputs and records.
#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    /// Opens (and makes, when missing) the store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let store = Self { dir: dir.into() };
        for sub in [store.dir.join("inputs"), store.dir.join("jobs")] {
            fs::create_dir_all(&sub).map_err(StoreError::new("create", &sub))?;
        }
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the input of job `id` is written.
    pub fn input_path(&self, id: &str) -> PathBuf {
        self.dir.join("inputs").join(id)
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir.join("jobs").join(format!("{id}.json"))
    }

    /// Writes the record of `job`, replacing the one before.
    pub fn put(&self, job: &Job) -> Result<(), StoreError> {
        let path = self.record_path(&job.job_id);
        let part = path.with_extension("json.part");
        let text = serde_json::to_vec(job).map_err(|e| StoreError {
            action: "encode",
            path: path.display().to_string(),
            source: io::Error::other(e),
        })?;
        fs::write(&part, text).map_err(StoreError::new("write", &part))?;
        fs::rename(&part, &path).map_err(StoreError::new("write", &path))
    }

    /// The record of job `id`, or `None` when there is no such job.
    pub fn get(&self, id: &str) -> Result<Option<Job>, StoreError> {
        if !is_job_id(id) {
            return Ok(None);
        }
        let path = self.record_path(id);
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(StoreError::new("read", &path)(err)),
        };
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|e| StoreError::new("decode", &path)(io::Error::other(e)))
    }

    /// The jobs not finished (queued, or running when the process stopped).
    pub fn unfinished(&self) -> Result<Vec<Job>, StoreError> {
        let dir = self.dir.join("jobs");
        let mut jobs = Vec::new();
        for entry in fs::read_dir(&dir).map_err(StoreError::new("list", &dir))? {
            let entry = entry.map_err(StoreError::new("list", &dir))?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if let Some(job) = self.get(id)?
                && !job.status.is_finished()
            {
                jobs.push(job);
            }
        }
        jobs.sort_by_key(|j| j.created_ms);
        Ok(jobs)
    }

    /// Removes the input of job `id` (its record stays); a missing input is not an error.
    pub fn remove_input(&self, id: &str) {
        let path = self.input_path(id);
        if let Err(err) = fs::remove_file(&path)
            && err.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), %err, "could not remove a job's input");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::{Status, new_job_id};

    #[test]
    fn a_record_is_read_back_and_an_unknown_id_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let mut job = Job::queued(new_job_id(), "a".into(), 5);
        store.put(&job).unwrap();
        assert_eq!(store.get(&job.job_id).unwrap().as_ref(), Some(&job));
        assert_eq!(store.unfinished().unwrap(), vec![job.clone()]);
        job.status = Status::Done;
        store.put(&job).unwrap();
        assert!(store.unfinished().unwrap().is_empty());
        assert!(store.get(&new_job_id()).unwrap().is_none());
        assert!(store.get("../jobs/x").unwrap().is_none());
    }

    #[test]
    fn a_broken_record_is_an_error_naming_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let id = new_job_id();
        fs::write(store.record_path(&id), "{not json").unwrap();
        let err = store.get(&id).unwrap_err();
        assert!(err.to_string().contains(&format!("{id}.json")), "{err}");
    }
}
