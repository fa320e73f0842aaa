import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Tells the sidecar when its inputs may have changed: inotify on every directory that holds an input (the parent
/// of a plain file, so that editors that save by rename and Kubernetes ConfigMap volumes, which swap the `..data`
/// symlink, are seen), and a poll every second as a safety net. A change is confirmed by the inputs' fingerprint,
/// so noise (our reads, unrelated files) never causes a reconfiguration.
final class InputWatcher {
    private let paths: [String]
    private let excluding: [String]
    private var fd: Int32 = -1
    private var watched = Set<String>()
    private(set) var fingerprint: [String]

    init(paths: [String], excluding: [String]) {
        self.paths = paths
        self.excluding = excluding
        fingerprint = SourceLoader.fingerprint(paths: paths, excluding: excluding)
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        refreshWatches()
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Adds watches for directories that appeared since the last call (new subdirectories, a recreated parent):
    /// every directory the input walk lists (`SourceLoader.walk`, so what is watched is what is read), and the parent
    /// of each path that is not a directory.
    func refreshWatches() {
        guard fd >= 0 else { return }
        var directories: [String] = []
        for path in paths where path != "-" {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                var ignored = DiagnosticLog()
                directories += SourceLoader.walk(path, excluding: excluding, log: &ignored).directories
            } else {
                directories.append(
                    (path as NSString).deletingLastPathComponent.isEmpty
                        ? "." : (path as NSString).deletingLastPathComponent)
            }
        }
        let mask = UInt32(
            IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB
                | IN_DELETE_SELF | IN_MOVE_SELF)
        for directory in directories where !watched.contains(directory) {
            if inotify_add_watch(fd, directory, mask) >= 0 { watched.insert(directory) }
        }
    }

    /// Waits up to `timeout` seconds for a sign of change, then lets a burst settle: returns once no event came
    /// for `holdOff` seconds (or `cap` seconds after the first). Returns true when the fingerprint changed.
    /// `shouldStop` is checked at least every 100 ms.
    func waitForChange(timeout: TimeInterval, holdOff: TimeInterval, cap: TimeInterval, shouldStop: () -> Bool) -> Bool
    {
        let deadline = Date().addingTimeInterval(timeout)
        var sawEvent = false
        while !sawEvent, Date() < deadline, !shouldStop() {
            sawEvent = waitForEvent(milliseconds: Int32(min(100, max(1, deadline.timeIntervalSinceNow * 1000))))
        }
        if sawEvent {
            let capAt = Date().addingTimeInterval(cap)
            while Date() < capAt, !shouldStop(), waitForEvent(milliseconds: Int32(max(1, holdOff * 1000))) {}
            refreshWatches()
        }
        let now = SourceLoader.fingerprint(paths: paths, excluding: excluding)
        guard now != fingerprint else { return false }
        fingerprint = now
        return true
    }

    /// True when at least one inotify event arrived within the time (all pending events are drained).
    private func waitForEvent(milliseconds: Int32) -> Bool {
        guard fd >= 0 else {
            usleep(useconds_t(milliseconds) * 1000)
            return false
        }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var any = false
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 { any = true }
        return any
    }
}
