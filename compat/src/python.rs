//! The Python the cross-check runs with: found, or made once as `<workspace root>/.venv` from
//! [`requirements_file`].
//!
//! The Python is found by [`python`]:
//!
//! 1. the `AIOBS_PYTHON` environment variable, if set and not empty (used as is, nothing is
//!    checked or installed);
//! 2. else `<workspace root>/.venv/bin/python` (`.venv\Scripts\python.exe` on Windows), if it
//!    exists and can `import aiobs, pydantic`;
//! 3. else that virtualenv is created (`python3 -m venv`, then
//!    `pip install -q -r compat/requirements.txt`). Without `python3` or its `venv` module
//!    this panics with one line that says how to get them.
//!
//! Creating the virtualenv happens at most once even when many test threads and test binaries
//! (processes) ask at the same time: a [`OnceLock`] covers the threads of one process, and an
//! atomic `mkdir` of the lock directory `<workspace root>/.venv.lock` covers processes. A
//! process that finds the lock taken waits and retries; whoever gets the lock next checks the
//! venv again before doing anything. The lock directory is removed afterwards (also when the
//! setup fails). A lock left behind by a killed process is broken when its owner process no
//! longer exists (checked on Linux) or when it is older than [`STALE_LOCK_AFTER`].

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, SystemTime};

use crate::{requirements_file, workspace_root};

/// What to do when there is no Python to make the venv with: one line, for the test's panic.
pub const NO_PYTHON: &str = "the cross-check with the Python SDK's models needs python3 (3.9+) \
     with its venv module: install them (Debian/Ubuntu: `apt install python3 python3-venv`; \
     macOS: `brew install python`), or set AIOBS_PYTHON to a Python that has the packages of \
     compat/requirements.txt";

/// Environment variable that names the Python to run the validator with.
pub const PYTHON_ENV: &str = "AIOBS_PYTHON";

/// How long to wait for another process that is creating the virtualenv.
pub const LOCK_WAIT_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// A lock directory older than this is considered left behind by a crash.
pub const STALE_LOCK_AFTER: Duration = Duration::from_secs(15 * 60);

/// Pause between two attempts to take the lock.
const LOCK_RETRY_EVERY: Duration = Duration::from_millis(200);

/// Name of the file in the lock directory that holds the owner's process id.
const LOCK_OWNER_FILE: &str = "owner";

/// The workspace's virtualenv directory, `<workspace root>/.venv`.
pub(crate) fn venv_dir() -> PathBuf {
    workspace_root().join(".venv")
}

/// The Python executable inside [`venv_dir`].
pub(crate) fn venv_python() -> PathBuf {
    if cfg!(windows) {
        venv_dir().join("Scripts").join("python.exe")
    } else {
        venv_dir().join("bin").join("python")
    }
}

/// The lock directory that serialises creating the virtualenv across
/// processes, `<workspace root>/.venv.lock`.
pub(crate) fn venv_lock_dir() -> PathBuf {
    workspace_root().join(".venv.lock")
}

/// The Python that [`crate::python_models_accept`] runs `check_python_models.py` with.
///
/// `AIOBS_PYTHON` if set; else the workspace's `.venv` Python if it can
/// `import aiobs, pydantic`; else that `.venv` is created first (once, even
/// with concurrent threads and processes; see the module docs). The answer
/// is computed once per process.
///
/// # Panics
///
/// If the virtualenv has to be created and that fails: without `python3` or its `venv` module
/// with [`NO_PYTHON`]; when pip fails (no network, ...) with pip's output.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(find_or_create_python).clone()
}

/// A Python with `package` installed (importable as `module`): [`python`], into
/// which `python -m pip install -q package` is run first if `import module` fails there.
///
/// For tools the tests need beyond the validator's pinned requirements (such as the GCS
/// emulator `gcp-storage-emulator`). The install runs under the same cross-process lock as
/// creating the virtualenv, and at most once per package and process.
///
/// # Panics
///
/// If the install fails (no network for pip, a Python without pip...), with pip's output.
pub fn python_with_package(module: &str, package: &str) -> PathBuf {
    static CHECKED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let python = python();
    let mut checked = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
    if checked.iter().any(|p| p == package) {
        return python;
    }
    let importable = |python: &Path| imports(python, module);
    if !importable(&python) {
        let _lock = VenvLock::acquire();
        if !importable(&python) {
            run_checked(
                Command::new(&python)
                    .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
                    .arg(package),
            );
            assert!(
                importable(&python),
                "installed {package} into {} but `import {module}` still fails",
                python.display()
            );
        }
    }
    checked.push(package.to_owned());
    python
}

// ---------------------------------------------------------------------------
// Finding or creating the Python
// ---------------------------------------------------------------------------

fn find_or_create_python() -> PathBuf {
    if let Some(python) = std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(python);
    }
    let python = venv_python();
    // Fast path. While another process holds the lock the venv may be half
    // installed, so it is only trusted here when nobody is creating it.
    if !venv_lock_dir().exists() && python_is_usable(&python) {
        return python;
    }
    let _lock = VenvLock::acquire();
    if !python_is_usable(&python) {
        create_venv();
    }
    python
}

/// True if `python` runs and can `import aiobs.models, pydantic`.
fn python_is_usable(python: &Path) -> bool {
    python.is_file() && imports(python, "aiobs.models, pydantic")
}

/// True if `python` can `import modules` (from a neutral directory: in the workspace root, the
/// crate folder `aiobs/` would pass for a namespace package).
fn imports(python: &Path, modules: &str) -> bool {
    Command::new(python)
        .args(["-c", &format!("import {modules}")])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Creates (or repairs) `<workspace root>/.venv` and installs [`requirements_file`] into it.
/// The caller holds the [`VenvLock`].
fn create_venv() {
    let requirements = requirements_file();
    assert!(
        requirements.is_file(),
        "cannot create the validator's venv: {} does not exist",
        requirements.display()
    );
    let base = if cfg!(windows) { "python" } else { "python3" };
    let venv = venv_dir();
    if let Err(why) = make_venv(base, &venv) {
        panic!("{why}");
    }
    let python = venv_python();
    run_checked(
        Command::new(&python)
            .args(["-m", "pip", "install", "-q", "-r"])
            .arg(&requirements),
    );
    if !python_is_usable(&python) {
        let out = Command::new(&python)
            .args(["-c", "import aiobs.models, pydantic"])
            .current_dir(std::env::temp_dir())
            .output();
        panic!(
            "created {} but it cannot `import aiobs.models, pydantic`:\n{}",
            venv.display(),
            match out {
                Ok(out) => describe_output(&out),
                Err(e) => e.to_string(),
            }
        );
    }
}

/// `base -m venv venv`; when that cannot be done, the reason, whose first line is
/// [`NO_PYTHON`]. Without the venv module (Debian's python3 without python3-venv) the command
/// fails saying "ensurepip is not available"; without python3 it does not start at all.
fn make_venv(base: &str, venv: &Path) -> Result<(), String> {
    let made = Command::new(base)
        .args(["-m", "venv"])
        .arg(venv)
        .stdin(Stdio::null())
        .output();
    match made {
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(format!(
            "{NO_PYTHON}\n`{base} -m venv` failed:\n{}",
            describe_output(&out)
        )),
        Err(e) => Err(format!("{NO_PYTHON}\n({base}: {e})")),
    }
}

/// Runs `cmd` and panics with its output unless it succeeds.
fn run_checked(cmd: &mut Command) {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    if !out.status.success() {
        panic!(
            "{shown} failed ({}):\n{}",
            out.status,
            describe_output(&out)
        );
    }
}

pub(crate) fn describe_output(out: &Output) -> String {
    format!(
        "--- stdout ---\n{}--- stderr ---\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

// ---------------------------------------------------------------------------
// Cross-process lock: an atomically created directory
// ---------------------------------------------------------------------------

/// Holds `<workspace root>/.venv.lock` while alive; removes it on drop (also
/// when the holder panics).
struct VenvLock {
    dir: PathBuf,
}

impl VenvLock {
    /// Takes the lock, waiting (and retrying every 200 ms) while another
    /// process holds it. Breaks a lock whose owner is gone or that is older
    /// than [`STALE_LOCK_AFTER`].
    fn acquire() -> VenvLock {
        let dir = venv_lock_dir();
        let waited_since = SystemTime::now();
        loop {
            match fs::create_dir(&dir) {
                Ok(()) => {
                    // Best effort: the owner's pid lets others spot a dead holder.
                    let _ = fs::write(dir.join(LOCK_OWNER_FILE), std::process::id().to_string());
                    return VenvLock { dir };
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => panic!("cannot create the lock directory {}: {e}", dir.display()),
            }
            if let Some(owner) = stale_lock_owner(&dir) {
                break_lock(&dir, owner);
                continue;
            }
            let waited = waited_since.elapsed().unwrap_or_default();
            if waited > LOCK_WAIT_TIMEOUT {
                panic!(
                    "waited {waited:?} for {} (another process creating the validator's \
                     venv); remove it if no test is running",
                    dir.display()
                );
            }
            thread::sleep(LOCK_RETRY_EVERY);
        }
    }
}

impl Drop for VenvLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(self.dir.join(LOCK_OWNER_FILE));
        let _ = fs::remove_dir(&self.dir);
    }
}

/// The recorded owner of a lock that looks abandoned: `Some(owner pid text)`
/// (possibly empty) if the owner process is known to be gone (Linux) or the
/// lock is older than [`STALE_LOCK_AFTER`]; `None` while it looks held.
fn stale_lock_owner(dir: &Path) -> Option<String> {
    let owner = fs::read_to_string(dir.join(LOCK_OWNER_FILE)).ok();
    let owner_pid = owner.as_deref().and_then(|p| p.trim().parse::<u32>().ok());
    let owner_gone = owner_pid.is_some_and(|pid| {
        cfg!(target_os = "linux")
            && Path::new("/proc/self").exists()
            && !Path::new(&format!("/proc/{pid}")).exists()
    });
    if owner_gone {
        return owner;
    }
    let age = fs::metadata(dir)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())?;
    (age > STALE_LOCK_AFTER).then(|| owner.unwrap_or_default())
}

/// Removes an abandoned lock. The directory is first renamed to a unique
/// name (atomic), so that two processes breaking the same lock do not remove
/// each other's fresh one; if what was renamed turns out to belong to a
/// different owner than the one judged dead, it is put back.
fn break_lock(dir: &Path, judged_owner: String) {
    let aside = dir.with_file_name(format!(
        ".venv.lock.stale-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos()
    ));
    match fs::rename(dir, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => return, // someone else broke it
        Err(_) => return,                                    // retry on the next round
    }
    let owner = fs::read_to_string(aside.join(LOCK_OWNER_FILE)).unwrap_or_default();
    if owner != judged_owner && fs::rename(&aside, dir).is_ok() {
        return; // it was a live lock taken meanwhile: restored
    }
    let _ = fs::remove_dir_all(&aside);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("aiobs-compat-{name}-{}", std::process::id()))
    }

    #[test]
    fn without_python3_the_reason_says_how_to_get_it_in_one_line() {
        let venv = scratch("no-python");
        let why = make_venv("aiobs-test-no-such-python3", &venv).unwrap_err();
        let first = why.lines().next().unwrap();
        assert_eq!(first, NO_PYTHON);
        assert!(
            first.contains("apt install python3 python3-venv"),
            "{first}"
        );
        assert!(why.contains("aiobs-test-no-such-python3"), "{why}");
        assert!(!venv.exists());
    }

    #[test]
    #[cfg(unix)]
    fn a_python_that_cannot_make_a_venv_gets_the_same_line_and_its_output() {
        // Stands in for Debian's python3 without python3-venv: it starts, and fails.
        let venv = scratch("no-venv");
        let why = make_venv("false", &venv).unwrap_err();
        assert_eq!(why.lines().next().unwrap(), NO_PYTHON);
        assert!(why.contains("`false -m venv` failed"), "{why}");
    }

    #[test]
    #[cfg(unix)]
    fn the_real_python3_makes_a_venv() {
        let venv = scratch("venv");
        let made = make_venv("python3", &venv);
        let python = venv.join("bin").join("python");
        let exists = python.exists();
        let _ = fs::remove_dir_all(&venv);
        made.unwrap();
        assert!(exists, "{} after python3 -m venv", python.display());
    }
}
