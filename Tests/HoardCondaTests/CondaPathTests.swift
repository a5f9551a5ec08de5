import Testing
@testable import HoardConda

@Suite struct CondaPathTests {
    @Test(arguments: [
        ("/conda-forge/linux-64/repodata.json", "/conda-forge/linux-64/repodata.json"),
        ("/conda-forge/noarch/repodata.json.zst", "/conda-forge/noarch/repodata.json.zst"),
        ("/conda-forge/osx-arm64/repodata.json.bz2", "/conda-forge/osx-arm64/repodata.json.bz2"),
        ("/conda-forge/win-64/current_repodata.json", "/conda-forge/win-64/current_repodata.json"),
        ("/conda-forge/linux-aarch64/repodata_shards.msgpack.zst", "/conda-forge/linux-aarch64/repodata_shards.msgpack.zst"),
        ("/conda-forge/channeldata.json", "/conda-forge/channeldata.json"),
        ("/pytorch/label/nightly/linux-64/repodata.json", "/pytorch/label/nightly/linux-64/repodata.json"),
        ("/pytorch/label/dev/channeldata.json", "/pytorch/label/dev/channeldata.json"),
        ("/conda-forge/emscripten-wasm32/python-3.12.1-hab00c5b_0_cpython.conda", "/conda-forge/emscripten-wasm32/python-3.12.1-hab00c5b_0_cpython.conda"),
        ("/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2", "/conda-forge/linux-64/_libgcc_mutex-0.1-conda_forge.tar.bz2"),
        // Percent-encoded bytes that are legal once decoded.
        ("/conda-forge/linux-64/pkg-1%212.0%2Bcpu-h0_0.conda", "/conda-forge/linux-64/pkg-1!2.0+cpu-h0_0.conda"),
        ("/conda%2Dforge/linux-64/repodata.json", "/conda-forge/linux-64/repodata.json"),
    ])
    func goodPaths(raw: String, canonical: String) throws {
        let p = try CondaRequestPath.parse(rawPath: raw)
        #expect(p.description == canonical)
    }

    @Test func parsedParts() throws {
        let p = try CondaRequestPath.parse(rawPath: "/bioconda/label/main/linux-64/shards/" + String(repeating: "ab", count: 32) + ".msgpack.zst")
        #expect(p.channel.rawValue == "bioconda")
        #expect(p.label?.rawValue == "main")
        #expect(p.subdir?.rawValue == "linux-64")
        #expect(p.file == .subdir(try Subdir("linux-64"), .shard(sha256Hex: String(repeating: "ab", count: 32))))

        // conda-index's layout: the shard beside the index; the same shard, so the same file.
        let beside = try CondaRequestPath.parse(rawPath: "/bioconda/label/main/linux-64/" + String(repeating: "ab", count: 32) + ".msgpack.zst")
        #expect(beside == p)

        let pkg = try CondaRequestPath.parse(rawPath: "/conda-forge/linux-64/ca-certificates-2024.2.2-hbcca054_0.conda")
        guard case .subdir(_, .package(let fn)) = pkg.file else { Issue.record("not a package"); return }
        #expect(fn.name == "ca-certificates")
        #expect(fn.version == "2024.2.2")
        #expect(fn.build == "hbcca054_0")
        #expect(fn.format == .conda)
    }

    @Test(arguments: [
        "conda-forge/linux-64/repodata.json",             // not absolute
        "/conda-forge/../linux-64/repodata.json",
        "/conda-forge/%2e%2e/linux-64/repodata.json",
        "/conda-forge/linux-64/%2E",
        "/conda-forge/linux-64/./repodata.json",
        "/conda-forge//linux-64/repodata.json",
        "/conda-forge/linux-64/",
        "/conda-forge/linux-64/repodata.json%00",
        "/conda-forge/linux-64/pkg-1-0.conda%00.txt",
        "/conda-forge/linux-64%2Frepodata.json",
        "/conda-forge%2f..%2fetc/linux-64/repodata.json",
        "/conda-forge/linux-64/..%5Crepodata.json",
        "/conda-forge\\linux-64/repodata.json",
        "/conda-forge/linux-64/repodata.json%",
        "/conda-forge/linux-64/repodata.json%zz",
        "/conda-forge/linux-64/repodata.json%4",
        "/conda-forge/linux-64/%ff%fe.conda",
        "/conda-forge/linux-64/a%0Ab-1-0.conda",
    ])
    func malformedPaths(raw: String) {
        #expect {
            try CondaRequestPath.parse(rawPath: raw)
        } throws: { error in
            (error as? CondaPathError)?.httpStatus == 400
        }
    }

    @Test(arguments: [
        "/",                                                // no channel
        "/conda-forge",
        "/conda-forge/linux-64",
        "/conda-forge/linux-64/index.html",
        "/conda-forge/Linux-64/repodata.json",              // subdir grammar
        "/conda-forge/linux_64/repodata.json",
        "/conda-forge/linux-64-x/repodata.json",
        "/-conda/linux-64/repodata.json",                   // channel grammar
        "/.hidden/linux-64/repodata.json",
        "/conda-forge/label/linux-64/repodata.json",        // label without subdir file
        "/conda-forge/linux-64/shards/ABCD.msgpack.zst",
        "/conda-forge/linux-64/shards/" + String(repeating: "A", count: 64) + ".msgpack.zst", // uppercase hex
        "/conda-forge/linux-64/notshards/" + String(repeating: "a", count: 64) + ".msgpack.zst",
        "/conda-forge/linux-64/" + String(repeating: "A", count: 64) + ".msgpack.zst",      // beside the index: uppercase hex
        "/conda-forge/linux-64/" + String(repeating: "a", count: 63) + ".msgpack.zst",      // short hex
        "/conda-forge/linux-64/" + String(repeating: "a", count: 64) + ".msgpack",          // no .zst
        "/conda-forge/" + String(repeating: "a", count: 64) + ".msgpack.zst",               // no subdir
        "/conda-forge/linux-64/-1.0-0.conda",               // empty name
        "/conda-forge/linux-64/pkg--0.conda",               // empty version
        "/conda-forge/linux-64/.pkg-1.0-0.conda",
        "/conda-forge/linux-64/pkg-1.0-0.zip",
        "/conda-forge/linux-64/pkg%201.0-1.0-0.conda",      // space
        "/conda-forge/linux-64/a/b/c/repodata.json",
    ])
    func unknownPaths(raw: String) {
        #expect {
            try CondaRequestPath.parse(rawPath: raw)
        } throws: { error in
            (error as? CondaPathError)?.httpStatus == 404
        }
    }

    @Test func namesAndSubdirs() throws {
        #expect(throws: CondaNameError.self) { try ChannelName(".") }
        #expect(throws: CondaNameError.self) { try ChannelName("..") }
        #expect(throws: CondaNameError.self) { try ChannelName(String(repeating: "a", count: 129)) }
        _ = try ChannelName(String(repeating: "a", count: 128))
        _ = try ChannelName("My_Channel.2-x")
        #expect(throws: CondaNameError.self) { try Label("") }
        for s in ["noarch", "linux-64", "osx-arm64", "win-64", "linux-aarch64", "emscripten-wasm32", "linux-ppc64le"] {
            _ = try Subdir(s)
        }
        for s in ["", "linux", "-64", "linux-", "linux-64-1", "Linux-64", "linux_64", "noarch2 "] {
            #expect(throws: CondaNameError.self) { try Subdir(s) }
        }
    }
}

@Suite struct CondaFilenameTests {
    @Test(arguments: [
        ("_libgcc_mutex-0.1-conda_forge.tar.bz2", "_libgcc_mutex", "0.1", "conda_forge", CondaFilename.Format.tarBz2),
        ("python-3.12.1-hab00c5b_0_cpython.conda", "python", "3.12.1", "hab00c5b_0_cpython", .conda),
        ("ca-certificates-2024.2.2-hbcca054_0.conda", "ca-certificates", "2024.2.2", "hbcca054_0", .conda),
        ("pytorch-2.1.0-cpu_generic_py311h0e2d8c9_0.conda", "pytorch", "2.1.0", "cpu_generic_py311h0e2d8c9_0", .conda),
        ("r-base-4.3.2-hb8ee39d_1.tar.bz2", "r-base", "4.3.2", "hb8ee39d_1", .tarBz2),
        ("openssl-3.2.1-hd590300_0.conda", "openssl", "3.2.1", "hd590300_0", .conda),
        ("jpeg-9e-h0b41bf4_3.conda", "jpeg", "9e", "h0b41bf4_3", .conda),
        ("tzdata-2024a-h0c530f3_0.conda", "tzdata", "2024a", "h0c530f3_0", .conda),
        ("libtorch-1!2.0+cu118-h_0.conda", "libtorch", "1!2.0+cu118", "h_0", .conda),
        ("font-ttf-dejavu-sans-mono-2.37-hab24e00_0.tar.bz2", "font-ttf-dejavu-sans-mono", "2.37", "hab24e00_0", .tarBz2),
        ("vs2015_runtime-14.38.33130-hcb4865c_18.conda", "vs2015_runtime", "14.38.33130", "hcb4865c_18", .conda),
    ])
    func splits(fn: String, name: String, version: String, build: String, format: CondaFilename.Format) throws {
        let f = try CondaFilename(fn)
        #expect(f.name == name)
        #expect(f.version == version)
        #expect(f.build == build)
        #expect(f.format == format)
        #expect(f.stem + format.rawValue == fn)
    }

    @Test(arguments: [
        "", "python.conda", "python-3.12.conda", "-3.12-0.conda", "python--0.conda", "python-3.12-.conda",
        ".python-3.12-0.conda", "py/thon-3.12-0.conda", "py\\thon-3.12-0.conda", "py\0thon-3.12-0.conda",
        "py\nthon-3.12-0.conda", "python-3.12-0.tar.gz", "python-3.12-0.conda.part", "py thon-3.12-0.conda",
        "python-3.12-0%2e.conda", "pythön-3.12-0.conda", "--3.12-0.conda",
        String(repeating: "a", count: 250) + "-1-0.conda",
    ])
    func rejects(fn: String) {
        #expect(throws: CondaNameError.self) { try CondaFilename(fn) }
    }
}
