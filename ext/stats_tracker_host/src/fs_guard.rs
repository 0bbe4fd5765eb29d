//! What WASI p1 alone does not enforce on preopened directories, added by shadowing a
//! few of its imports with wrappers that check first and then call wasmtime-wasi's own
//! implementation:
//! * a write quota per call: bytes written to regular files, and files, directories and
//!   hard links created (stdout and stderr have their own cap, `output_limit`);
//! * no symlink creation: a guest could otherwise leave a relative link pointing outside
//!   its directory for host code that reads its output to follow;
//! * no opening of FIFOs, sockets or devices: opening a FIFO nobody writes to blocks a
//!   host thread in open(2), and no deadline can take that thread back.

use wasmtime::{AsContextMut, Caller, Extern, Linker, Memory};
use wasmtime_wasi::p1::types::{Errno, Fd, Filetype, Lookupflags, Oflags};
use wasmtime_wasi::p1::wasi_snapshot_preview1 as snapshot;
use wasmtime_wasi::p1::wasi_snapshot_preview1::WasiSnapshotPreview1;
use wasmtime_wasi::p1::WasiP1Ctx;
use wiggle::{GuestMemory, GuestPtr};

use crate::wasi_command::P1State;

const MODULE: &str = "wasi_snapshot_preview1";

/// Bytes and directory entries one call may still write.
#[derive(Debug)]
pub struct WriteQuota {
    max_bytes: u64,
    max_files: u64,
    bytes: u64,
    files: u64,
    exceeded: Option<&'static str>,
}

impl WriteQuota {
    pub fn new(max_bytes: u64, max_files: u64) -> Self {
        WriteQuota {
            max_bytes,
            max_files,
            bytes: 0,
            files: 0,
            exceeded: None,
        }
    }

    /// Reserves room for `bytes` more; false (and remembered) when the quota is too small.
    fn may_write(&mut self, bytes: u64) -> bool {
        let fits = self
            .bytes
            .checked_add(bytes)
            .is_some_and(|total| total <= self.max_bytes);
        if !fits {
            self.exceeded.get_or_insert("write_limit");
        }
        fits
    }

    fn wrote(&mut self, bytes: u64) {
        self.bytes = self.bytes.saturating_add(bytes);
    }

    fn may_create(&mut self) -> bool {
        let fits = self.files < self.max_files;
        if !fits {
            self.exceeded.get_or_insert("file_limit");
        }
        fits
    }

    fn created(&mut self) {
        self.files = self.files.saturating_add(1);
    }

    /// Why the guest was refused a write, as a message naming the limit; None if never.
    pub fn exceeded(&self) -> Option<String> {
        self.exceeded.map(|limit| match limit {
            "write_limit" => format!(
                "guest writes exceeded write_limit of {} bytes",
                self.max_bytes
            ),
            _ => format!(
                "guest created more than file_limit of {} files",
                self.max_files
            ),
        })
    }
}

fn errno(e: Errno) -> i32 {
    e as i32
}

fn memory(caller: &mut Caller<'_, P1State>) -> wasmtime::Result<Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => Err(wasmtime::Error::msg("missing required memory export")),
    }
}

/// The guest's memory, WASI's context and the quota, as wasmtime-wasi's own wrappers
/// set them up (including the per-call host fuel they read strings against).
fn parts<'a>(
    caller: &'a mut Caller<'_, P1State>,
) -> wasmtime::Result<(GuestMemory<'a>, &'a mut WasiP1Ctx, &'a mut WriteQuota)> {
    let memory = memory(caller)?;
    let fuel = caller.as_context_mut().hostcall_fuel();
    let (mem, state) = memory.data_and_store_mut(caller);
    let (wasi, quota) = state.wasi_and_quota();
    wasi.set_hostcall_fuel(fuel);
    Ok((GuestMemory::Unshared(mem), wasi, quota))
}

async fn is_regular_file(wasi: &mut WasiP1Ctx, mem: &mut GuestMemory<'_>, fd: i32) -> bool {
    matches!(
        wasi.fd_fdstat_get(mem, Fd::from(fd)).await,
        Ok(stat) if stat.fs_filetype == Filetype::RegularFile
    )
}

/// The bytes an iovec array asks to write; None if it does not lie in guest memory
/// (wasmtime-wasi then reports the fault itself).
fn iovec_total(mem: &GuestMemory<'_>, iovs: i32, count: i32) -> Option<u64> {
    let mut total: u64 = 0;
    for i in 0..u32::try_from(count).ok()? {
        let len_at = (iovs as u32)
            .checked_add(i.checked_mul(8)?)?
            .checked_add(4)?;
        let len = mem.read(GuestPtr::<u32>::new(len_at)).ok()?;
        total = total.checked_add(u64::from(len))?;
    }
    Some(total)
}

fn read_u32(mem: &GuestMemory<'_>, at: i32) -> u64 {
    mem.read(GuestPtr::<u32>::new(at as u32))
        .map(u64::from)
        .unwrap_or(0)
}

/// Adds the wrappers to a linker that already has wasmtime-wasi's p1 functions.
pub fn add_to_linker(linker: &mut Linker<P1State>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);

    linker.func_wrap_async(
        MODULE,
        "fd_write",
        |mut caller: Caller<'_, P1State>, (fd, iovs, count, nwritten): (i32, i32, i32, i32)| {
            Box::new(async move {
                let (mut mem, wasi, quota) = parts(&mut caller)?;
                let charged = match is_regular_file(wasi, &mut mem, fd).await {
                    true => iovec_total(&mem, iovs, count),
                    false => None,
                };
                if let Some(bytes) = charged {
                    if !quota.may_write(bytes) {
                        return Ok(errno(Errno::Dquot));
                    }
                }
                let result = snapshot::fd_write(wasi, &mut mem, fd, iovs, count, nwritten).await?;
                if charged.is_some() && result == 0 {
                    quota.wrote(read_u32(&mem, nwritten));
                }
                Ok(result)
            })
        },
    )?;

    linker.func_wrap_async(
        MODULE,
        "fd_pwrite",
        |mut caller: Caller<'_, P1State>,
         (fd, iovs, count, offset, nwritten): (i32, i32, i32, i64, i32)| {
            Box::new(async move {
                let (mut mem, wasi, quota) = parts(&mut caller)?;
                let charged = match is_regular_file(wasi, &mut mem, fd).await {
                    true => iovec_total(&mem, iovs, count),
                    false => None,
                };
                if let Some(bytes) = charged {
                    if !quota.may_write(bytes) {
                        return Ok(errno(Errno::Dquot));
                    }
                }
                let result =
                    snapshot::fd_pwrite(wasi, &mut mem, fd, iovs, count, offset, nwritten).await?;
                if charged.is_some() && result == 0 {
                    quota.wrote(read_u32(&mem, nwritten));
                }
                Ok(result)
            })
        },
    )?;

    // Growing a file by truncate counts as writing the bytes it grows by.
    linker.func_wrap_async(
        MODULE,
        "fd_filestat_set_size",
        |mut caller: Caller<'_, P1State>, (fd, size): (i32, i64)| {
            Box::new(async move {
                let (mut mem, wasi, quota) = parts(&mut caller)?;
                let growth = match wasi.fd_filestat_get(&mut mem, Fd::from(fd)).await {
                    Ok(stat) if stat.filetype == Filetype::RegularFile => {
                        (size as u64).saturating_sub(stat.size)
                    }
                    _ => 0,
                };
                if !quota.may_write(growth) {
                    return Ok(errno(Errno::Dquot));
                }
                let result = snapshot::fd_filestat_set_size(wasi, &mut mem, fd, size).await?;
                if result == 0 {
                    quota.wrote(growth);
                }
                Ok(result)
            })
        },
    )?;

    linker.func_wrap_async(
        MODULE,
        "path_open",
        |mut caller: Caller<'_, P1State>,
         (fd, dirflags, path, path_len, oflags, base, inheriting, fdflags, opened): (
            i32,
            i32,
            i32,
            i32,
            i32,
            i64,
            i64,
            i32,
            i32,
        )| {
            Box::new(async move {
                let (mut mem, wasi, quota) = parts(&mut caller)?;
                let name = GuestPtr::<str>::new((path as u32, path_len as u32));
                let flags = Lookupflags::from_bits_truncate(dirflags as u32);
                let existing = wasi
                    .path_filestat_get(&mut mem, Fd::from(fd), flags, name)
                    .await;
                let creates = match &existing {
                    Ok(stat) => match stat.filetype {
                        Filetype::RegularFile | Filetype::Directory | Filetype::SymbolicLink => {
                            false
                        }
                        // A FIFO, socket or device: refused before open(2) can block.
                        _ => return Ok(errno(Errno::Acces)),
                    },
                    Err(_) => Oflags::from_bits_truncate(oflags as u16).contains(Oflags::CREAT),
                };
                if creates && !quota.may_create() {
                    return Ok(errno(Errno::Dquot));
                }
                let result = snapshot::path_open(
                    wasi, &mut mem, fd, dirflags, path, path_len, oflags, base, inheriting,
                    fdflags, opened,
                )
                .await?;
                if creates && result == 0 {
                    quota.created();
                }
                Ok(result)
            })
        },
    )?;

    linker.func_wrap_async(
        MODULE,
        "path_create_directory",
        |mut caller: Caller<'_, P1State>, (fd, path, path_len): (i32, i32, i32)| {
            Box::new(async move {
                let (mut mem, wasi, quota) = parts(&mut caller)?;
                if !quota.may_create() {
                    return Ok(errno(Errno::Dquot));
                }
                let result =
                    snapshot::path_create_directory(wasi, &mut mem, fd, path, path_len).await?;
                if result == 0 {
                    quota.created();
                }
                Ok(result)
            })
        },
    )?;

    linker.func_wrap_async(
        MODULE,
        "path_link",
        |mut caller: Caller<'_, P1State>,
         (old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len): (
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
            i32,
        )| {
            Box::new(async move {
                let (mut mem, wasi, quota) = parts(&mut caller)?;
                if !quota.may_create() {
                    return Ok(errno(Errno::Dquot));
                }
                let result = snapshot::path_link(
                    wasi, &mut mem, old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len,
                )
                .await?;
                if result == 0 {
                    quota.created();
                }
                Ok(result)
            })
        },
    )?;

    linker.func_wrap(
        MODULE,
        "path_symlink",
        |_: Caller<'_, P1State>, _: i32, _: i32, _: i32, _: i32, _: i32| -> i32 {
            errno(Errno::Perm)
        },
    )?;

    linker.allow_shadowing(false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_fit_until_the_byte_limit_and_the_refusal_is_remembered() {
        let mut quota = WriteQuota::new(10, 5);
        assert!(quota.may_write(6));
        quota.wrote(6);
        assert!(quota.may_write(4));
        quota.wrote(4);
        assert_eq!(quota.exceeded(), None);
        assert!(!quota.may_write(1));
        assert_eq!(
            quota.exceeded().as_deref(),
            Some("guest writes exceeded write_limit of 10 bytes")
        );
    }

    #[test]
    fn a_write_larger_than_u64_does_not_wrap_around() {
        let mut quota = WriteQuota::new(u64::MAX, 5);
        quota.wrote(u64::MAX);
        assert!(!quota.may_write(1));
    }

    #[test]
    fn files_fit_until_the_file_limit() {
        let mut quota = WriteQuota::new(10, 2);
        for _ in 0..2 {
            assert!(quota.may_create());
            quota.created();
        }
        assert!(!quota.may_create());
        assert_eq!(
            quota.exceeded().as_deref(),
            Some("guest created more than file_limit of 2 files")
        );
    }
}
