//! `kassa render` end to end: kind inferred from command_type, every format, the self-test page.
use std::process::Command;

fn kassa(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kassa")).arg("render").args(args).output().expect("kassa runs")
}

#[test]
fn renders_documents_and_self_test() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = format!("{}/tests/fixtures/z_report.json", env!("CARGO_MANIFEST_DIR"));
    for (format, file) in
        [("txt", "z.txt"), ("html", "z.html"), ("png", "z.png"), ("escpos", "z.bin"), ("escpos-hex", "z.hex")]
    {
        let out = dir.path().join(file);
        let o = kassa(&[
            "--document",
            &fixture,
            "--format",
            format,
            "--width",
            "576",
            "--lang",
            "ru",
            "-o",
            out.to_str().expect("utf-8 path"),
        ]);
        assert!(o.status.success(), "{format}: {}", String::from_utf8_lossy(&o.stderr));
        let bytes = std::fs::read(&out).expect("output written");
        match format {
            "txt" => {
                let t = String::from_utf8(bytes).expect("utf-8");
                assert!(t.contains("Z-ОТЧЕТ"), "{t}");
                assert!(t.lines().all(|l| l.chars().count() <= 48));
            }
            "png" => assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n"),
            "escpos" => assert_eq!(&bytes[..4], b"\x1b@\x1c."),
            "escpos-hex" => assert!(String::from_utf8(bytes).expect("utf-8").starts_with("1B 40  ESC @ init")),
            _ => assert!(String::from_utf8(bytes).expect("utf-8").starts_with("<!DOCTYPE html>")),
        }
    }
    let out = dir.path().join("self.txt");
    let o = kassa(&["--self-test", "--format", "txt", "--profile", "epson-tm-t88", "-o", out.to_str().expect("path")]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = std::fs::read_to_string(&out).expect("written");
    assert!(t.contains("ESC t 53") && t.contains("KZ-1048") && t.contains("ӘҒҚҢӨҰҮҺІ"), "{t}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let doc = dir.path().join("doc.json");
    std::fs::write(&doc, r#"{"command_type": 99}"#).expect("write");
    let o = kassa(&["--document", doc.to_str().expect("path"), "-o", "/dev/null"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--kind"));
    let o =
        kassa(&["--document", doc.to_str().expect("path"), "--kind", "ticket", "--width", "5000", "-o", "/dev/null"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("image_width"));
}
