import Foundation
import HoardServer
import Synchronization

/// Fills a plan's packages, `jobs` at a time, and reports: a progress line on a terminal, plain
/// lines otherwise, then a summary with counts and bytes.
struct MirrorRun: Sendable {
    let filler: ChannelFiller
    let jobs: Int
    let output: MirrorOutput

    struct Report: Sendable {
        var total = 0
        var fetched = 0
        var fetchedBytes: Int64 = 0
        var present = 0
        var presentBytes: Int64 = 0
        var failed: [String] = []
        var planFailures: [String] = []

        var succeeded: Bool { failed.isEmpty && planFailures.isEmpty }
    }

    enum Outcome: Sendable {
        case done(ChannelFiller.Outcome)
        case failed(String)
    }

    func run(_ plan: MirrorPlan) async -> Report {
        var report = Report(total: plan.items.count, planFailures: plan.failures)
        for failure in plan.failures { output.failure(failure) }
        await withTaskGroup(of: (MirrorPlan.Item, Outcome).self) { group in
            var pending = plan.items.makeIterator()
            func startNext() -> Bool {
                guard let item = pending.next() else { return false }
                group.addTask { [filler] in
                    do {
                        return (item, .done(try await filler.package(
                            channel: item.channel, label: item.label, subdir: item.subdir, filename: item.filename, expected: item.expected)))
                    } catch {
                        return (item, .failed("\(error)"))
                    }
                }
                return true
            }
            for _ in 0..<jobs where startNext() {}
            while let (item, outcome) = await group.next() {
                switch outcome {
                case .done(.fetched(let size)):
                    report.fetched += 1
                    report.fetchedBytes += size
                    output.item("fetched", item.display, size: size)
                case .done(.present(let size)):
                    report.present += 1
                    report.presentBytes += size
                    output.item("present", item.display, size: size)
                case .failed(let why):
                    report.failed.append("\(item.display): \(why)")
                    output.failure("\(item.display): \(why)")
                }
                output.progress(report)
                _ = startNext()
            }
        }
        output.summary(report)
        return report
    }
}

/// Where `hoard mirror` writes: items and the summary on standard output, notes and failures on
/// standard error; on a terminal, items become one progress line rewritten in place.
final class MirrorOutput: Sendable {
    let interactive: Bool
    private let progressShown = Mutex(false)

    init(interactive: Bool) { self.interactive = interactive }

    func note(_ text: String) { clearingProgress { Self.write("note: \(text)\n", to: .standardError) } }
    func failure(_ text: String) { clearingProgress { Self.write("failed: \(text)\n", to: .standardError) } }

    func item(_ what: String, _ display: String, size: Int64) {
        guard !interactive else { return }
        Self.write("\(what) \(display) (\(size) bytes)\n", to: .standardOutput)
    }

    func progress(_ report: MirrorRun.Report) {
        guard interactive else { return }
        let done = report.fetched + report.present + report.failed.count
        let line = "[\(done)/\(report.total)] fetched \(report.fetched) (\(Self.size(report.fetchedBytes))), present \(report.present), failed \(report.failed.count)"
        progressShown.withLock { shown in
            Self.write("\r\u{1B}[K" + line, to: .standardError)
            shown = true
        }
    }

    func summary(_ report: MirrorRun.Report) {
        clearingProgress {}
        var text = "mirror: \(report.total) packages: \(report.fetched) fetched (\(Self.size(report.fetchedBytes)), \(report.fetchedBytes) bytes), "
        text += "\(report.present) already present (\(Self.size(report.presentBytes)), \(report.presentBytes) bytes), \(report.failed.count) failed"
        if !report.planFailures.isEmpty { text += "; \(report.planFailures.count) problems before fetching (see above)" }
        Self.write(text + "\n", to: .standardOutput)
    }

    private func clearingProgress(_ body: () -> Void) {
        progressShown.withLock { shown in
            if shown { Self.write("\r\u{1B}[K", to: .standardError); shown = false }
            body()
        }
    }

    private static func write(_ text: String, to handle: FileHandle) {
        handle.write(Data(text.utf8))
    }

    /// 1536 → "1.5 KiB", 12 → "12 B".
    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
