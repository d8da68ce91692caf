//! Generates the C header from the C layer (src/capi/) with the pinned cbindgen, into
//! `$OUT_DIR/mif.h`, and prints where it is. `make check-header` (part of `make test`)
//! compares it with the committed include/mif.h; `make header` refreshes that copy.
use std::path::PathBuf;

/// The C layer's files, in the order their declarations appear in the header.
const CAPI_FILES: &[&str] = &[
    "src/capi/status.rs",
    "src/capi/options.rs",
    "src/capi/request.rs",
    "src/capi/address.rs",
    "src/capi/message.rs",
    "src/capi/constants.rs",
    "src/capi/context.rs",
];

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=cbindgen.toml");
    for file in CAPI_FILES {
        println!("cargo:rerun-if-changed={file}");
    }
    // Shared-object name carries the ABI major version.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libmif.so.0");
    // The library registers pthread_atfork handlers (src/capi/handles.rs), which cannot
    // be unregistered: dlclose() must not unmap them.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    // Only the C layer speaks C: parsing just its files keeps every other module's
    // public items out of the header.
    let mut builder = cbindgen::Builder::new().with_config(config);
    for file in CAPI_FILES {
        builder = builder.with_src(crate_dir.join(file));
    }
    match builder.generate() {
        Ok(bindings) => {
            bindings.write_to_file(out_dir.join("mif.h"));
        }
        Err(e) => panic!("cbindgen failed: {e}"),
    }
}
