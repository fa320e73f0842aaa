import Foundation

/// Wall-clock time per stage, the processor time all threads spent in it (more than the wall time when the stage
/// ran on several processors), and the peak RSS reached by its end, for `--timings` and the benchmark. Commands
/// own the clock; the pipeline never reads it.
struct StageClock {
    private var last = DispatchTime.now().uptimeNanoseconds
    private var lastCPU = StageClock.cpuMilliseconds(StageClock.usage())
    private(set) var laps: [(stage: String, milliseconds: Double, cpuMilliseconds: Double, peakMB: Int)] = []

    mutating func lap(_ stage: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let usage = StageClock.usage()
        let cpu = StageClock.cpuMilliseconds(usage)
        laps.append((stage, Double(now - last) / 1_000_000, cpu - lastCPU, usage.ru_maxrss / 1024))
        last = now
        lastCPU = cpu
    }

    private static func usage() -> rusage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage
    }

    /// User plus system time of every thread so far.
    private static func cpuMilliseconds(_ usage: rusage) -> Double {
        func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
        return ms(usage.ru_utime) + ms(usage.ru_stime)
    }

    var summary: String {
        laps.map {
            "\($0.stage) \(String(format: "%.1f", $0.milliseconds)) ms (cpu \(String(format: "%.0f", $0.cpuMilliseconds)), peak \($0.peakMB) MB)"
        }.joined(separator: ", ")
    }
}
