//! The confirm window and the first-boot wizard's completion, as the
//! engine enforces them, against the simulated machine: a window that
//! closes without a confirm rolls back by itself, a confirmed generation
//! stays past it, and the wizard completes once and confirms only its own.

use std::time::Duration;

use tokio::sync::{broadcast, RwLock};

use super::confirm::{enforce, Expired, SharedEngine};
use super::sim_tests::{outcomes, req, SimBox, A, B};
use super::*;

/// A window short enough for a test, long enough to confirm inside it.
const WINDOW: Duration = Duration::from_secs(1);

fn windowed(text: &str) -> ApplyRequest {
    ApplyRequest {
        confirm_timeout: Some(WINDOW),
        ..req(text)
    }
}

/// The engine as the daemon runs it: shared, its windows enforced.
async fn enforced(b: &SimBox) -> (SharedEngine, broadcast::Receiver<Expired>) {
    let (engine, _) = b.open().await;
    let expiries = engine.expiries();
    let engine = Arc::new(RwLock::new(engine));
    enforce(engine.clone());
    (engine, expiries)
}

/// The next expiry, or `None` when none comes within `within`.
async fn next_expiry(
    expiries: &mut broadcast::Receiver<Expired>,
    within: Duration,
) -> Option<Expired> {
    tokio::time::timeout(within, expiries.recv())
        .await
        .ok()
        .map(|e| e.unwrap())
}

#[tokio::test]
async fn a_window_that_closes_without_a_confirm_rolls_back_by_itself() {
    let b = SimBox::new();
    let (engine, mut expiries) = enforced(&b).await;
    engine.write().await.apply(req(A)).await.unwrap();
    let old = b.machine();
    let applied = engine.write().await.apply(windowed(B)).await.unwrap();
    assert_eq!(
        engine.read().await.confirm_window().map(|w| w.generation),
        Some(applied.generation)
    );
    let expired = next_expiry(&mut expiries, WINDOW * 10).await.unwrap();
    let reason = "not confirmed within 1 s; the previous generation came back";
    assert_eq!(
        expired,
        Expired {
            generation: 2,
            reason: reason.into()
        }
    );
    let e = engine.read().await;
    assert_eq!(b.machine(), old);
    assert_eq!(e.current_generation().unwrap(), 1);
    assert_eq!(e.pending(), None);
    assert_eq!(e.confirm_window(), None);
    let h = e.history(0, 1).unwrap().1;
    assert_eq!(
        (h[0].id, h[0].outcome, h[0].reason.as_str()),
        (2, Outcome::RolledBack, reason)
    );
}

#[tokio::test]
async fn a_generation_confirmed_inside_its_window_stays_after_it() {
    let b = SimBox::new();
    let (engine, mut expiries) = enforced(&b).await;
    engine.write().await.apply(req(A)).await.unwrap();
    engine.write().await.apply(windowed(B)).await.unwrap();
    let new = b.machine();
    engine.write().await.confirm(2).unwrap();
    assert_eq!(engine.read().await.confirm_window(), None);
    assert_eq!(next_expiry(&mut expiries, WINDOW * 2).await, None);
    let e = engine.read().await;
    assert_eq!(b.machine(), new);
    assert_eq!(e.current_generation().unwrap(), 2);
    assert_eq!(outcomes(&e)[0], (2, Outcome::Applied));
}

#[tokio::test]
async fn each_window_is_enforced_after_an_earlier_one_was_confirmed() {
    let b = SimBox::new();
    let (engine, mut expiries) = enforced(&b).await;
    engine.write().await.apply(windowed(A)).await.unwrap();
    engine.write().await.confirm(1).unwrap();
    let confirmed = b.machine();
    engine.write().await.apply(windowed(B)).await.unwrap();
    let expired = next_expiry(&mut expiries, WINDOW * 10).await.unwrap();
    assert_eq!(expired.generation, 2);
    assert_eq!(b.machine(), confirmed);
    let e = engine.read().await;
    assert_eq!(
        outcomes(&e),
        vec![(2, Outcome::RolledBack), (1, Outcome::Applied)]
    );
}

#[tokio::test]
async fn the_wizard_completes_only_once() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    assert!(!e.first_boot().completed());
    let done = e.complete_wizard(req(A)).await.unwrap();
    assert!(done.completed);
    assert_eq!(done.applied.generation, 1);
    assert!(e.first_boot().completed());
    let applied = b.machine();
    let err = e.complete_wizard(req(B)).await.unwrap_err();
    assert!(matches!(err, EngineError::WizardCompleted), "{err}");
    assert!(matches!(
        e.first_boot().refuse_completed(),
        Err(EngineError::WizardCompleted)
    ));
    assert_eq!(b.machine(), applied, "a second Complete changes nothing");
    assert_eq!(e.current_generation().unwrap(), 1);
    drop(e);
    let (mut e, _) = b.open().await;
    assert!(e.first_boot().completed(), "completion outlives a restart");
    assert!(e.complete_wizard(req(B)).await.is_err());
}

/// The wizard's confirm of `generation` is refused as not its own;
/// `made` is the generation the wizard's `Complete` made, if any.
fn assert_not_the_wizards(e: &mut Engine, generation: u64, made: Option<u64>) {
    let err = e.confirm_wizard(generation).unwrap_err();
    assert!(
        matches!(
            &err,
            EngineError::NotTheWizards(n) if *n == NotTheWizards { generation, made }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn the_wizard_confirms_only_the_generation_its_complete_made() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    // An admin's generation waiting for its confirm is not the wizard's.
    e.apply(windowed(A)).await.unwrap();
    assert_not_the_wizards(&mut e, 1, None);
    assert_eq!(e.pending().map(|p| p.generation), Some(1));
    e.confirm(1).unwrap();
    assert!(!e.first_boot().completed(), "an admin's confirm of its own");

    let done = e.complete_wizard(windowed(B)).await.unwrap();
    assert!(!done.completed, "it waits for its confirm");
    assert_eq!(e.first_boot().waiting(), Some(2));
    assert_not_the_wizards(&mut e, 1, Some(2));
    assert!(!e.first_boot().completed());
    e.confirm_wizard(2).unwrap();
    assert!(e.first_boot().completed());
    assert_eq!(e.first_boot().waiting(), None);
    assert_eq!(outcomes(&e)[0], (2, Outcome::Applied));
}

#[tokio::test]
async fn an_admins_confirm_of_the_wizards_generation_completes_it() {
    let b = SimBox::new();
    let (mut e, _) = b.open().await;
    e.complete_wizard(windowed(A)).await.unwrap();
    assert!(!e.first_boot().completed());
    e.confirm(1).unwrap();
    assert!(e.first_boot().completed());
    assert!(matches!(
        e.complete_wizard(req(B)).await,
        Err(EngineError::WizardCompleted)
    ));
}

#[tokio::test]
async fn a_wizard_generation_that_rolls_back_lets_the_wizard_try_again() {
    let b = SimBox::new();
    let (engine, mut expiries) = enforced(&b).await;
    let before = b.machine();
    let done = engine.write().await.complete_wizard(windowed(A)).await;
    assert!(!done.unwrap().completed);
    let expired = next_expiry(&mut expiries, WINDOW * 10).await.unwrap();
    assert_eq!(expired.generation, 1);
    assert_eq!(b.machine(), before, "the first generation taken back whole");
    let mut e = engine.write().await;
    assert!(!e.first_boot().completed());
    let again = e.complete_wizard(req(B)).await.unwrap();
    assert!(again.completed);
    assert_eq!(again.applied.generation, 2);
}
