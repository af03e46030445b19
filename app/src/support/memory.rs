/// Gives the memory freed after a burst of work back to the system. glibc keeps freed memory
/// in the arena of the thread that used it, and a heap only shrinks from its top: after a login's
/// argon2 check (19 MiB), the start's reading of every record, or the site's compression, what
/// was freed stayed resident. About a millisecond; call it after such bursts, not per request.
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it is safe to call at any time
    unsafe {
        libc::malloc_trim(0);
    }
}
