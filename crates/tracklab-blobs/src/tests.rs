use std::fs;

use proptest::prelude::*;

use super::*;

fn store() -> (tempfile::TempDir, BlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let s = BlobStore::open(&dir.path().join("blobs")).unwrap();
    (dir, s)
}

#[test]
fn the_same_bytes_are_stored_once_under_their_sha256() {
    let (_d, s) = store();
    let (a, n) = s.put_bytes(b"hello").unwrap();
    assert_eq!(n, 5);
    // sha256("hello")
    assert_eq!(
        a.to_hex(),
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    // Storing it again refreshes its time (gc spares young blobs).
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    fs::File::options()
        .write(true)
        .open(s.path(&a))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let (b, _) = s.put_bytes(b"hello").unwrap();
    assert_eq!(a, b);
    let age = fs::metadata(s.path(&a))
        .unwrap()
        .modified()
        .unwrap()
        .elapsed()
        .unwrap();
    assert!(age.as_secs() < 600, "{age:?}");
    assert_eq!(s.list().unwrap(), vec![a]);
    assert_eq!(s.read(&a).unwrap(), b"hello");
    assert!(
        s.path(&a).ends_with(
            "sha256/2c/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        )
    );
    assert!(
        fs::read_dir(s.root().join("tmp")).unwrap().next().is_none(),
        "no temporary file left"
    );
}

#[test]
fn a_file_is_copied_and_read_back_verified() {
    let (d, s) = store();
    let src = d.path().join("model.bin");
    let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    fs::write(&src, &bytes).unwrap();
    let (digest, n) = s.put_file(&src).unwrap();
    assert_eq!((digest, n), (Digest::of(&bytes), bytes.len() as u64));
    let out = d.path().join("out/copy.bin");
    assert_eq!(s.copy_to(&digest, &out).unwrap(), n);
    assert_eq!(fs::read(&out).unwrap(), bytes);
    assert_eq!(s.verify(&digest).unwrap(), n);
}

#[test]
fn a_damaged_blob_is_an_error_naming_it_never_data() {
    let (d, s) = store();
    let (digest, _) = s.put_bytes(&vec![42u8; 100_000]).unwrap();
    let p = s.path(&digest);
    let mut bytes = fs::read(&p).unwrap();
    bytes[77_777] ^= 0x10;
    fs::write(&p, &bytes).unwrap();
    let e = s.read(&digest).unwrap_err();
    assert!(matches!(e, BlobError::Corrupt { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&digest.to_hex()) && msg.contains("damaged"),
        "{msg}"
    );
    // A copy to a destination leaves nothing there.
    let out = d.path().join("copy");
    assert!(s.copy_to(&digest, &out).is_err());
    assert!(!out.exists());
    assert!(
        fs::read_dir(d.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("part"))
    );
    // Truncated is damaged too.
    fs::write(&p, &bytes[..10]).unwrap();
    assert!(matches!(s.verify(&digest), Err(BlobError::Corrupt { .. })));
    // Gone is missing.
    fs::remove_file(&p).unwrap();
    assert!(matches!(s.verify(&digest), Err(BlobError::Missing { .. })));
}

#[test]
fn a_sender_digest_that_does_not_match_stores_nothing() {
    let (_d, s) = store();
    let mut w = s.writer().unwrap();
    w.write_all_bytes(b"abc").unwrap();
    let wrong = Digest::of(b"abd");
    assert!(matches!(
        w.finish(Some(&wrong)),
        Err(BlobError::Mismatch { .. })
    ));
    assert!(s.list().unwrap().is_empty());
    assert!(fs::read_dir(s.root().join("tmp")).unwrap().next().is_none());
}

#[test]
fn an_unfinished_write_is_invisible_and_removed_at_open() {
    let (d, s) = store();
    let mut w = s.writer().unwrap();
    w.write_all_bytes(b"half of a checkpoint").unwrap();
    // A crash: the writer never finishes nor drops.
    std::mem::forget(w);
    assert!(s.list().unwrap().is_empty());
    let part = fs::read_dir(s.root().join("tmp"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    // A young one may be another process's live write: kept.
    let again = BlobStore::open_and_clean(&d.path().join("blobs")).unwrap();
    assert!(part.exists());
    // An old one is a crashed write: removed.
    let old = std::time::SystemTime::now() - UNFINISHED_AGE - std::time::Duration::from_secs(5);
    fs::File::options()
        .write(true)
        .open(&part)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let again = BlobStore::open_and_clean(again.root()).unwrap();
    assert_eq!(fs::read_dir(again.root().join("tmp")).unwrap().count(), 0);
    // And an unfinished write that is dropped cleans up at once.
    let mut w = again.writer().unwrap();
    w.write_all_bytes(b"x").unwrap();
    drop(w);
    assert_eq!(fs::read_dir(again.root().join("tmp")).unwrap().count(), 0);
}

#[test]
fn a_newer_format_is_refused_with_the_version() {
    let (d, s) = store();
    fs::write(s.root().join("VERSION"), "7\n").unwrap();
    let e = BlobStore::open(&d.path().join("blobs")).unwrap_err();
    assert!(e.to_string().contains("format version 7"), "{e}");
}

#[test]
fn digests_parse_only_from_64_hex_digits() {
    let d = Digest::of(b"x");
    assert_eq!(Digest::from_hex(&d.to_hex().to_uppercase()).unwrap(), d);
    for bad in [
        "",
        "abc",
        "../../etc/passwd",
        &"g".repeat(64),
        &"a".repeat(65),
    ] {
        assert!(Digest::from_hex(bad).is_err(), "{bad}");
    }
}

#[test]
fn remove_and_list() {
    let (_d, s) = store();
    let (a, _) = s.put_bytes(b"a").unwrap();
    let (b, _) = s.put_bytes(b"b").unwrap();
    let mut all = s.list().unwrap();
    all.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(all, want);
    s.remove(&a).unwrap();
    s.remove(&a).unwrap();
    assert_eq!(s.list().unwrap(), vec![b]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn any_bytes_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..5000)) {
        let (_d, s) = store();
        let (digest, n) = s.put_bytes(&bytes).unwrap();
        prop_assert_eq!(n, bytes.len() as u64);
        prop_assert_eq!(digest, Digest::of(&bytes));
        prop_assert_eq!(s.read(&digest).unwrap(), bytes);
    }
}
