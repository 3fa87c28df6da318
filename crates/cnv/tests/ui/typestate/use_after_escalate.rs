// `escalate` takes the session: the old state cannot be used after it.
use cnv::prelude::*;

fn main() {
    let session = TypedSession::<Unverified>::with_name("app").verify(CapabilityContract::pure());
    let escalated = session.escalate(
        CapabilityContract::read_only(),
        "Need to read config file for initialization",
    );
    session.execute(|| println!("still pure?"));
    drop(escalated);
}
