//! Crash consistency: `auth refresh` killed with SIGKILL at random points,
//! against a slow token endpoint that rotates refresh tokens.
//!
//! 200 iterations by default; the documented longer run is
//! `CREDCTL_CRASH_ITERATIONS=1000 cargo test --test it crash -- --nocapture`.

use std::process::Stdio;
use std::time::Duration;

use crate::common::rotating::Rotating;
use crate::common::*;

fn pair_number(access: &str, refresh: &str) -> Option<u64> {
    let a: u64 = access.strip_prefix("at-")?.parse().ok()?;
    let r: u64 = refresh.strip_prefix("rt-")?.parse().ok()?;
    (a == r).then_some(a)
}

#[test]
#[allow(clippy::print_stderr)] // the summary is the figure of the longer run
fn auth_refresh_killed_at_random_points_never_loses_the_credential() {
    let iterations: u64 = std::env::var("CREDCTL_CRASH_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let server = Rotating::start(Duration::from_millis(40));
    let env = TestEnv::new();
    env.config(&format!(
        "[providers.acme]\nclient_id = \"cli\"\ntoken_url = \"{}\"\n",
        server.url
    ));
    env.seed_oauth(
        "acme",
        "default",
        oauth(
            "at-0",
            Some("rt-0"),
            "2026-06-01T11:00:00Z",
            Some("2026-06-01T12:00:00Z"),
        ),
    );
    let (mut kept_old, mut got_new) = (0, 0);
    let mut before = 0;
    for i in 0..iterations {
        let mut child = env
            .command(BIN)
            .args(["auth", "refresh", "acme"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Anywhere in its life: start-up, lock, request, the wait for the
        // answer, parsing, the write and rename — or after it finished.
        std::thread::sleep(Duration::from_micros(fastrand::u64(0..70_000)));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();

        let entry = env
            .store()
            .load(&id("acme", "default"))
            .unwrap_or_else(|e| panic!("iteration {i}: the file does not parse: {e}"))
            .unwrap_or_else(|| panic!("iteration {i}: the credential is gone"));
        let access = access_token(&entry);
        let refresh = refresh_token(&entry).expect("refresh token");
        let n = pair_number(&access, &refresh)
            .unwrap_or_else(|| panic!("iteration {i}: a torn pair {access} / {refresh}"));
        assert!(
            n == before || n == server.refreshes(),
            "iteration {i}: pair {n} is neither the old ({before}) nor the newest ({})",
            server.refreshes()
        );
        assert!(
            server.accepts(&refresh),
            "iteration {i}: the stored {refresh} is dead"
        );
        if n == before {
            kept_old += 1;
        } else {
            got_new += 1;
        }
        before = n;
        let temps = env.store_files(".tmp").len();
        assert!(
            temps <= 1,
            "iteration {i}: {temps} temporary files piled up"
        );
    }
    eprintln!(
        "crash consistency: {iterations} kills; old pair kept {kept_old}, new pair saved {got_new}, {} refreshes answered",
        server.refreshes()
    );
    assert_eq!(
        server.rejected(),
        0,
        "credctl presented a dead refresh token"
    );
    // Both outcomes must have happened, or the kill points were not random enough.
    assert!(
        kept_old > 0 && got_new > 0,
        "old kept {kept_old}, new saved {got_new}"
    );
    // The credential still works after all that.
    env.run(&["auth", "refresh", "acme"]).success();
}
