// Executing before verifying: an unverified session holds no capability.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("my-app");
    session.execute(|| println!("too early"));
}
