import Foundation
import Testing
@testable import HoardConda
@testable import HoardMirror

@Suite struct LockFileTests {
    static let sha = "fe51de6107f9edc7aa4f786a70f4a883943bc9d39b3bb7307c04c41410990726"
    static let md5 = "d7c89558ba9fa0495403155b64376d81"

    /// pixi.lock version 6, as pixi 0.4x writes it.
    @Test func pixiV6() throws {
        let text = """
            version: 6
            environments:
              default:
                channels:
                - url: https://conda.anaconda.org/conda-forge/
                packages:
                  linux-64:
                  - conda: https://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
                  - pypi: https://files.pythonhosted.org/packages/x/y/six-1.16.0-py2.py3-none-any.whl
            packages:
            - conda: https://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
              sha256: \(Self.sha)
              md5: \(Self.md5)
              arch: x86_64
              platform: linux
              license: None
              size: 2562
              timestamp: 1578324546067
            - pypi: https://files.pythonhosted.org/packages/x/y/six-1.16.0-py2.py3-none-any.whl
              name: six
              version: 1.16.0
            - conda: https://conda.anaconda.org/conda-forge/noarch/tzdata-2024a-h0c530f3_0.conda
              md5: 161081fc7cec0bfda0d86d7cb595f8d8
            """
        let lock = try LockFile(parsing: text)
        #expect(lock.format == .pixi)
        #expect(lock.packages.count == 2)
        #expect(lock.packages[0].url.hasSuffix("_libgcc_mutex-0.1-conda_forge.tar.bz2"))
        #expect(lock.packages[0].sha256?.hex == Self.sha)
        #expect(lock.packages[0].md5 == Self.md5)
        #expect(lock.packages[1].sha256 == nil)
        #expect(lock.packages[1].md5 == "161081fc7cec0bfda0d86d7cb595f8d8")
        #expect(lock.skipped.count == 1)
    }

    /// pixi.lock version 4/5: `kind: conda` with `url`.
    @Test func pixiV5() throws {
        let text = """
            version: 5
            environments: {}
            packages:
            - kind: conda
              name: _libgcc_mutex
              version: '0.1'
              build: conda_forge
              subdir: linux-64
              url: https://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
              sha256: \(Self.sha)
              md5: \(Self.md5)
            - kind: pypi
              name: six
              url: https://files.pythonhosted.org/packages/six-1.16.0-py2.py3-none-any.whl
            """
        let lock = try LockFile(parsing: text)
        #expect(lock.format == .pixi)
        #expect(lock.packages.map(\.sha256?.hex) == [Self.sha])
        #expect(lock.skipped.count == 1)
    }

    /// conda-lock v1 (`conda-lock.yml`).
    @Test func condaLock() throws {
        let text = """
            version: 1
            metadata:
              content_hash:
                linux-64: abc
              channels:
              - url: conda-forge
                used_env_vars: []
              platforms:
              - linux-64
              sources:
              - environment.yml
            package:
            - name: _libgcc_mutex
              version: '0.1'
              manager: conda
              platform: linux-64
              dependencies: {}
              url: https://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2
              hash:
                md5: \(Self.md5)
                sha256: \(Self.sha)
              category: main
              optional: false
            - name: six
              version: 1.16.0
              manager: pip
              platform: linux-64
              dependencies: {}
              url: https://files.pythonhosted.org/packages/six-1.16.0-py2.py3-none-any.whl
              hash:
                sha256: \(Self.sha)
              category: main
              optional: false
            """
        let lock = try LockFile(parsing: text)
        #expect(lock.format == .condaLock)
        #expect(lock.packages.count == 1)
        #expect(lock.packages[0].sha256?.hex == Self.sha)
        #expect(lock.packages[0].md5 == Self.md5)
        #expect(lock.skipped == ["six: a pip package"])
    }

    /// conda's `@EXPLICIT` list (`conda list --explicit --md5`, conda-lock's explicit render).
    @Test func explicit() throws {
        let text = """
            # This file may be used to create an environment using:
            # $ conda create --name <env> --file <this file>
            # platform: linux-64
            @EXPLICIT
            https://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2#\(Self.md5)
            https://conda.anaconda.org/conda-forge/linux-64/a-1-0.conda#sha256:\(Self.sha)
            https://conda.anaconda.org/conda-forge/linux-64/b-1-0.conda#\(Self.sha.uppercased())
            https://conda.anaconda.org/conda-forge/linux-64/c-1-0.conda
            https://conda.anaconda.org/conda-forge/linux-64/c-1-0.conda

            """
        let lock = try LockFile(parsing: text)
        #expect(lock.format == .explicit)
        #expect(lock.packages.count == 4)
        #expect(lock.packages[0].md5 == Self.md5)
        #expect(lock.packages[1].sha256?.hex == Self.sha)
        #expect(lock.packages[2].sha256?.hex == Self.sha)
        #expect(lock.packages[3].sha256 == nil && lock.packages[3].md5 == nil)
    }

    @Test(arguments: [
        "",
        "just: yaml\n",
        "@EXPLICIT\nhttps://x/linux-64/a-1-0.conda#abc\n",
        "version: 6\npackages:\n- conda: https://x/ch/linux-64/a-1-0.conda\n  sha256: nothex\n",
        "package:\n- name: a\n  manager: conda\n",
        "package:\n- name: a\n  manager: conda\n  url: https://x/ch/linux-64/a-1-0.conda\n  hash:\n    md5: short\n",
        "[1, 2",
    ])
    func refused(_ text: String) {
        #expect(throws: MirrorError.self) { try LockFile(parsing: text) }
    }

    @Test func locate() throws {
        let channels = [(name: "cf", upstream: "https://conda.anaconda.org/conda-forge/"), (name: "fx", upstream: "http://127.0.0.1:9/channel")]
        let a = try LockedLocation.locate("https://conda.anaconda.org/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2", channels: channels)
        #expect(a == LockedLocation(channel: "cf", label: "", subdir: "linux-64", filename: try CondaFilename("_libgcc_mutex-0.1-conda_forge.tar.bz2")))
        let b = try LockedLocation.locate("http://127.0.0.1:9/channel/label/dev/noarch/pkg-1.0%2Bcpu-0.conda", channels: channels)
        #expect(b.channel == "fx" && b.label == "dev" && b.subdir == "noarch" && b.filename.rawValue == "pkg-1.0+cpu-0.conda")
        #expect(throws: MirrorError.self) { try LockedLocation.locate("https://conda.anaconda.org/bioconda/linux-64/a-1-0.conda", channels: channels) }
        #expect(throws: MirrorError.self) { try LockedLocation.locate("https://conda.anaconda.org/conda-forge/linux-64/notapackage.txt", channels: channels) }
    }
}

@Suite struct MirrorSelectionTests {
    static func record(_ subdir: String, _ name: String, _ version: String, _ build: String = "h0_0", depends: [String] = [], format: String = "conda") throws -> PackageRecord {
        PackageRecord(
            subdir: subdir, filename: try CondaFilename("\(name)-\(version)-\(build).\(format)"), name: name,
            version: try CondaVersion(version), build: build, buildNumber: 0, depends: depends, size: 1)
    }

    static func records() throws -> [PackageRecord] {
        [
            try record("linux-64", "app", "1.0", depends: ["lib >=2", "__glibc >=2.17", "tool"]),
            try record("linux-64", "app", "2.0", depends: ["lib >=2,<3", "data"]),
            try record("linux-64", "app", "2.0", "h1_1", depends: ["lib >=2,<3"]),
            try record("linux-64", "lib", "1.0"),
            try record("linux-64", "lib", "2.0"),
            try record("linux-64", "lib", "2.5", depends: ["zlib"]),
            try record("linux-64", "lib", "3.0"),
            try record("linux-64", "lib", "3.0", format: "tar.bz2"),
            try record("linux-64", "zlib", "1.3"),
            try record("noarch", "data", "1.0", depends: ["lib 2.*"]),
            try record("osx-64", "lib", "2.2"),
            try record("linux-64", "broken", "1.0", depends: ["not a spec at all ((("]),
        ]
    }

    func names(_ result: MirrorSelection.Result) -> [String] { result.records.map { "\($0.subdir)/\($0.filename)" } }

    @Test func everythingPrefersConda() throws {
        let result = MirrorSelection().select(from: try Self.records())
        #expect(result.records.count == 11)
        #expect(!names(result).contains("linux-64/lib-3.0-h0_0.tar.bz2"))
    }

    @Test func specsAndLatest() throws {
        let selection = MirrorSelection(specs: [try MatchSpec("lib >=2")], latest: 2)
        #expect(names(selection.select(from: try Self.records())) == ["linux-64/lib-2.5-h0_0.conda", "linux-64/lib-3.0-h0_0.conda", "osx-64/lib-2.2-h0_0.conda"])
        let one = MirrorSelection(specs: [try MatchSpec("app")], latest: 1)
        #expect(names(one.select(from: try Self.records())) == ["linux-64/app-2.0-h0_0.conda", "linux-64/app-2.0-h1_1.conda"])
    }

    @Test func withDependenciesTransitively() throws {
        let selection = MirrorSelection(specs: [try MatchSpec("app 2.0 h0_0")], latest: 1, withDeps: true)
        let result = selection.select(from: try Self.records())
        // lib >=2,<3 → newest is 2.5 (osx-64 is another subdir), which needs zlib; data (noarch) needs lib 2.*.
        #expect(names(result) == ["linux-64/app-2.0-h0_0.conda", "linux-64/lib-2.5-h0_0.conda", "linux-64/zlib-1.3-h0_0.conda", "noarch/data-1.0-h0_0.conda", "osx-64/lib-2.2-h0_0.conda"])
        #expect(result.unsatisfied.isEmpty)
    }

    @Test func unsatisfiedAndVirtualAndInvalid() throws {
        let result = MirrorSelection(specs: [try MatchSpec("app 1.0"), try MatchSpec("broken"), try MatchSpec("nothing")], withDeps: true).select(from: try Self.records())
        #expect(result.unsatisfied.map(\.dependency) == ["tool"])  // __glibc is virtual: never a channel's
        #expect(result.invalidDependencies.map(\.dependency) == ["not a spec at all ((("])
        #expect(result.unmatched.map(\.name) == ["nothing"])
        #expect(names(result).contains("linux-64/lib-3.0-h0_0.conda"))
    }

    @Test func repodataParsing() throws {
        let json = """
            {"info": {"subdir": "linux-64"},
             "packages": {"a-1.0-0.tar.bz2": {"name": "a", "version": "1.0", "build": "0", "build_number": 0, "depends": ["b >=1"], "size": 10},
                          "odd-1.0-0.tar.bz2": {"name": "odd", "version": "1..0", "build": "0"},
                          "big-1.0-0.tar.bz2": {"name": "big", "version": "1.0", "build": "0", "build_number": 1e40, "size": -1}},
             "packages.conda": {"b-2.0-1.conda": {"name": "b", "version": "2.0", "build": "1", "build_number": 1}, "notapackage": {}}}
            """
        let parsed = try RepodataPackages.parse(Data(json.utf8), subdir: "linux-64")
        #expect(parsed.records.map(\.filename.rawValue).sorted() == ["a-1.0-0.tar.bz2", "b-2.0-1.conda", "big-1.0-0.tar.bz2"])
        #expect(parsed.skipped.sorted() == ["notapackage", "odd-1.0-0.tar.bz2"])
        #expect(parsed.records.first { $0.name == "a" }?.depends == ["b >=1"])
        #expect(throws: MirrorError.self) { try RepodataPackages.parse(Data("[".utf8), subdir: "linux-64") }
    }
}
