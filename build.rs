//! Generates the C header from src/ffi.rs with the pinned cbindgen, into
//! target/include/mif.h. The committed include/mif.h is compared against it by
//! `make check-header` (part of `make test`) and refreshed by `make header`.
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    // Shared-object name carries the ABI major version.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmif.so.0");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let out_dir = crate_dir.join("target").join("include");
    std::fs::create_dir_all(&out_dir).expect("create target/include");
    // Only src/ffi.rs speaks C: parsing just that file keeps every other module's
    // public items (constants of the netlink adapter, say) out of the header.
    match cbindgen::Builder::new()
        .with_src(crate_dir.join("src/ffi.rs"))
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(out_dir.join("mif.h"));
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    }
}
