import HoardConda

/// Which packages of a channel's subdirs `hoard mirror` fills: those matching the specs (all
/// when none is given), the newest `latest` versions of each name per subdir, and with
/// `withDeps` every dependency the same subdirs (and noarch) can satisfy, transitively.
public struct MirrorSelection: Sendable {
    public var specs: [MatchSpec]
    /// Keep only the newest N versions (all their builds) of each name in each subdir, for the
    /// selected packages and for each dependency; nil: every matching version.
    public var latest: Int?
    public var withDeps: Bool
    /// The subdirs the selection starts from (nil: all given); dependencies may also come from
    /// the others given (noarch is loaded for them).
    public var subdirs: Set<String>?

    public init(specs: [MatchSpec] = [], latest: Int? = nil, withDeps: Bool = false, subdirs: Set<String>? = nil) {
        self.specs = specs
        self.latest = latest
        self.withDeps = withDeps
        self.subdirs = subdirs
    }

    public struct Result: Sendable {
        /// The records to fill, sorted by subdir and filename.
        public var records: [PackageRecord]
        /// Specs that matched nothing in any subdir.
        public var unmatched: [MatchSpec]
        /// Dependencies no loaded subdir satisfies: (dependency, the record needing it).
        public var unsatisfied: [(dependency: String, of: String)]
        /// Dependencies that are not valid match specs: (dependency, the record listing it).
        public var invalidDependencies: [(dependency: String, of: String)]
    }

    public func select(from all: [PackageRecord]) -> Result {
        let records = Self.preferringConda(all)
        var byName: [String: [PackageRecord]] = [:]
        for record in records { byName[record.name, default: []].append(record) }

        let roots = subdirs.map { subdirs in records.filter { subdirs.contains($0.subdir) } } ?? records
        var unmatched: [MatchSpec] = []
        var chosen: [PackageRecord] = []
        if specs.isEmpty {
            chosen = newest(roots)
        } else {
            for spec in specs {
                let candidates = (spec.name == "*" ? roots : (byName[spec.name] ?? [])).filter { subdirs?.contains($0.subdir) ?? true }
                let matching = candidates.filter { spec.matches(name: $0.name, version: $0.version, build: $0.build, buildNumber: $0.buildNumber) }
                if matching.isEmpty { unmatched.append(spec) }
                chosen += newest(matching)
            }
        }
        var selected = Set<PackageRecord>()
        var queue: [PackageRecord] = []
        for record in chosen where selected.insert(record).inserted { queue.append(record) }

        var unsatisfied: [(String, String)] = []
        var invalid: [(String, String)] = []
        if withDeps {
            // The answer for one dependency string in one subdir is the same for every record.
            var answers: [String: [PackageRecord]?] = [:]
            while let record = queue.popLast() {
                for dependency in record.depends {
                    let memo = record.subdir + "\u{0}" + dependency
                    let found: [PackageRecord]?
                    if let known = answers[memo] {
                        found = known
                    } else {
                        found = satisfying(dependency, for: record, in: byName)
                        answers[memo] = found
                    }
                    guard let found else {
                        invalid.append((dependency, record.description))
                        continue
                    }
                    if found.isEmpty, !Self.isVirtual(dependency) { unsatisfied.append((dependency, record.description)) }
                    for candidate in found where selected.insert(candidate).inserted { queue.append(candidate) }
                }
            }
        }
        let sorted = selected.sorted { ($0.subdir, $0.filename.rawValue) < ($1.subdir, $1.filename.rawValue) }
        return Result(records: sorted, unmatched: unmatched, unsatisfied: unsatisfied, invalidDependencies: invalid)
    }

    /// The records satisfying `dependency` of `record`: same subdir or noarch (a noarch record's
    /// dependencies may come from any subdir loaded). Nil: not a match spec.
    private func satisfying(_ dependency: String, for record: PackageRecord, in byName: [String: [PackageRecord]]) -> [PackageRecord]? {
        guard let spec = try? MatchSpec(dependency) else { return nil }
        if Self.isVirtual(dependency) { return [] }
        let candidates = (byName[spec.name] ?? []).filter {
            record.subdir == "noarch" || $0.subdir == record.subdir || $0.subdir == "noarch"
        }
        return newest(candidates.filter { spec.matches(name: $0.name, version: $0.version, build: $0.build, buildNumber: $0.buildNumber) })
    }

    /// `__glibc`, `__cuda`...: provided by the machine, never by a channel.
    static func isVirtual(_ dependency: String) -> Bool { dependency.hasPrefix("__") }

    /// The newest `latest` versions of each name in each subdir (everything when nil).
    func newest(_ records: [PackageRecord]) -> [PackageRecord] {
        guard let latest else { return records }
        var groups: [String: [PackageRecord]] = [:]
        for record in records { groups[record.subdir + "/" + record.name, default: []].append(record) }
        var kept: [PackageRecord] = []
        for (_, group) in groups {
            var versions: [CondaVersion] = []
            for version in group.map(\.version).sorted(by: >) where !versions.contains(version) {
                versions.append(version)
                if versions.count == latest { break }
            }
            kept += group.filter { record in versions.contains(record.version) }
        }
        return kept
    }

    /// When a subdir has a package as both `.conda` and `.tar.bz2`, only the `.conda` (what
    /// every current client downloads).
    static func preferringConda(_ records: [PackageRecord]) -> [PackageRecord] {
        let condaStems = Set(records.filter { $0.filename.format == .conda }.map { $0.subdir + "/" + $0.filename.stem })
        return records.filter { $0.filename.format == .conda || !condaStems.contains($0.subdir + "/" + $0.filename.stem) }
    }
}
