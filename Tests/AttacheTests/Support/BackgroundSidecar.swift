import Foundation

@testable import Attache

/// `attache watch` in this process, on its own thread, with Envoy's listener and admin on free loopback ports:
/// what the sidecar traffic tests start Envoy beside. `stop()` (or the end of the test) asks it to finish and waits.
final class BackgroundSidecar {
    let listenPort: Int
    let adminPort: Int
    let log: SidecarLog
    let bootstrapPath: String
    private let control = SidecarControl()
    private let done = DispatchSemaphore(value: 0)
    private var stopped = false

    /// `log`: where its lines go (shared with the source's own messages, for instance).
    init(source: InputSource, directory: URL, log: SidecarLog = SidecarLog()) throws {
        self.log = log
        (listenPort, adminPort) = (try freeLoopbackPort(), try freeLoopbackPort())
        var options = TranslationOptions()
        options.envoy.listenAddress = "127.0.0.1"
        options.envoy.listenPort = listenPort
        options.envoy.adminPort = adminPort
        bootstrapPath = directory.appendingPathComponent("bootstrap.json").path
        let sidecar = Sidecar(
            settings: SidecarSettings(options: options, directory: directory.path), source: source, io: log.io,
            control: control)
        let done = self.done
        Thread.detachNewThread {
            _ = sidecar.run()
            done.signal()
        }
    }

    /// Waits until the bootstrap is written (true), at most `seconds`.
    func waitForBootstrap(_ seconds: TimeInterval) -> Bool {
        waitUntil(seconds) { FileManager.default.fileExists(atPath: bootstrapPath) }
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        control.stop()
        _ = done.wait(timeout: .now() + 10)
    }

    deinit { stop() }
}
