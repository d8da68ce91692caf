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
    // libmif.so (soname, symbol versions, -z nodelete) is linked from the static
    // archive by build-aux/link-lib.sh, not here.

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
