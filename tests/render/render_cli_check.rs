//! The integrator's command line: every kind of template mistake is reported at the template's own line
//! and column with the offending text, `kassa render --strict` and `kassa templates check` exit non-zero,
//! the non-strict render falls back to the built-in (but for a missing picture, which costs only the picture),
//! `--profile` takes the shipped profiles and
//! `--dump-context` prints what a template sees.
use std::path::Path;
use std::process::{Command, Output};

fn kassa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kassa")).args(args).output().expect("kassa runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// (template source, line, column, offending text) for one mistake of each kind.
const MISTAKES: &[(&str, usize, usize, &str)] = &[
    // A mistyped style word.
    ("@center: ok\n@center blnk: {{ fiscal_id }}\n@cut\n", 2, 9, "blnk"),
    // An unknown directive.
    ("@center: ok\n\n  @frobnicate\n", 3, 3, "@frobnicate"),
    // An unclosed block, reported where it opens, not at the end of the file.
    ("a\n{% if body %}\nb\n{% for x in body.itemsList %}{{ x }}{% endfor %}\nc\nd\n", 2, 1, "{% if body %}"),
    // An unknown filter.
    ("line\n@row 1 a>: {{ t('total') }} | {{ body.amounts.total | monee }}\n", 2, 55, "monee"),
    // A syntax error in an expression.
    ("@center: {{ fiscal_id }\n", 1, 23, "}"),
    // A bad column spec inside a row in a loop: the loop body's line, however many items.
    ("{% for i in body.itemsList %}\n@row 1 zz: {{ i.commodity.name }}\n{% endfor %}\n", 2, 8, "zz"),
    // A bad number and an unknown rule kind.
    ("@feed lots\n", 1, 7, "lots"),
    ("@rule ~\n", 1, 7, "~"),
    // A picture file that is not there: reported, but the template keeps its text (see below).
    ("@center: МАГАЗИН У ДОМА\n@image missing-logo.png\n", 2, 8, "missing-logo.png"),
    // An unknown cut.
    ("@cut sideways\n", 1, 6, "sideways"),
    // A runaway loop.
    ("x\n{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}\n", 2, 0, ""),
];

fn write_template(dir: &Path, name: &str, source: &str) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join(name), source).expect("write");
}

#[test]
fn every_mistake_is_reported_at_the_template_line_and_strict_fails() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (i, (source, line, column, snippet)) in MISTAKES.iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        write_template(&dir, "ticket.j2", source);
        let out = dir.join("out.txt");
        let args = ["render", "--sample", "ticket_sale", "--format", "txt", "--template-dir"];
        let strict = kassa(&[&args[..], &[dir.to_str().unwrap(), "--strict", "-o", out.to_str().unwrap()]].concat());
        let err = stderr(&strict);
        assert!(!strict.status.success(), "case {i} must fail with --strict: {err}");
        assert!(!out.exists(), "case {i}: --strict writes nothing on a problem");
        let at = if *column > 0 { format!("ticket.j2:{line}:{column}:") } else { format!("ticket.j2:{line}") };
        assert!(err.contains(&at), "case {i}: expected {at} in\n{err}");
        let shown = source.lines().nth(line - 1).unwrap_or_default();
        assert!(err.contains(&format!("{line} | {shown}")), "case {i}: the template line is shown\n{err}");
        if snippet.trim().len() > 1 {
            assert!(err.contains(snippet), "case {i}: the offending text {snippet:?} is named\n{err}");
        }

        // Without --strict: the same diagnostic, and the built-in template prints the receipt; a missing
        // picture costs only the picture: the template prints its text.
        let lenient = kassa(&[&args[..], &[dir.to_str().unwrap(), "-o", out.to_str().unwrap()]].concat());
        assert!(lenient.status.success(), "case {i}: {}", stderr(&lenient));
        assert!(stderr(&lenient).contains(&at));
        let text = std::fs::read_to_string(&out).expect("written");
        if source.contains("missing-logo.png") {
            assert!(text.contains("МАГАЗИН У ДОМА") && !text.contains("1008"), "case {i}: the template kept\n{text}");
        } else {
            assert!(text.contains("1008"), "case {i}: the built-in ticket printed\n{text}");
        }
        assert!(!text.contains("blnk") && !text.contains("frobnicate"), "never printed: {text}");

        // `kassa templates check` finds it too.
        let check = kassa(&["templates", "check", "--dir", dir.to_str().unwrap()]);
        assert_eq!(check.status.code(), Some(1), "case {i}: {}", stderr(&check));
        assert!(stderr(&check).contains(&at.replace("ticket.j2", &dir.join("ticket.j2").display().to_string())));
    }
}

#[test]
fn templates_check_passes_good_folders_and_checks_kkm_folders() {
    let builtin = kassa(&["templates", "check"]);
    assert!(builtin.status.success(), "the built-ins are clean: {}", stderr(&builtin));
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let ticket = kassa(&["templates", "show", "ticket"]);
    write_template(dir, "ticket.j2", &String::from_utf8(ticket.stdout).expect("utf-8"));
    write_template(
        &dir.join("kkm/6923"),
        "money_placement.j2",
        "@center: {{ t('sum') }} {{ body.sum | money }}\n@cut\n",
    );
    let ok = kassa(&["templates", "check", "--dir", dir.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stderr(&ok).contains("2 template(s) checked, 0 problem(s)"), "{}", stderr(&ok));

    write_template(&dir.join("kkm/6923"), "x_report.j2", "@right bold italic: {{ t('x_report') }}\n");
    write_template(dir, "tiket.j2", "typo in the name\n");
    let bad = kassa(&["templates", "check", "--dir", dir.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(err.contains("kkm/6923/x_report.j2:1:13:") && err.contains("italic"), "{err}");
    assert!(err.contains("tiket.j2: not a template name"), "{err}");
}

#[test]
fn profiles_and_the_context() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("t.txt");
    for (profile, columns) in [("generic-58", 32), ("generic-80", 48), ("epson-tm-t88", 42), ("xprinter-xp-58", 32)] {
        let o = kassa(&[
            "render",
            "--sample",
            "ticket_sale",
            "--format",
            "txt",
            "--profile",
            profile,
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = std::fs::read_to_string(&out).expect("written");
        assert_eq!(text.lines().map(|l| l.chars().count()).max(), Some(columns), "{profile}:\n{text}");
    }
    // A user profile from a profiles folder (spool.profiles_dir), by id.
    let profiles = tmp.path().join("profiles");
    std::fs::create_dir_all(&profiles).expect("mkdir");
    std::fs::write(
        profiles.join("shop.toml"),
        "id = \"shop-72\"\nname = \"Shop printer\"\npaper_mm = 80\nwidth_dots = 512\nfonts = [{ name = \"A\", columns = 40 }]\n",
    )
    .expect("write");
    let o = kassa(&[
        "render",
        "--sample",
        "money_placement",
        "--format",
        "txt",
        "--profile",
        "shop-72",
        "--profiles-dir",
        profiles.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&out).expect("written").lines().map(|l| l.chars().count()).max(), Some(40));
    let o = kassa(&["render", "--sample", "money_placement", "--profile", "58mm", "-o", out.to_str().unwrap()]);
    assert!(!o.status.success() && stderr(&o).contains("generic-58"), "ad-hoc names are gone: {}", stderr(&o));

    let o = kassa(&["render", "--sample", "ticket_sale", "--dump-context", "--lang", "kk"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ctx: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON on stdout");
    assert_eq!(ctx["lang"], "kk");
    assert_eq!(ctx["copy"], false);
    assert_eq!(ctx["fiscal_id"], "1008");
    assert!(ctx["body"]["itemsList"].is_array());
}

#[test]
fn mistakes_in_branches_no_sample_reaches_are_found_too() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write_template(
        dir,
        "z_report.j2",
        "@center: {{ t('z_report') }}\n{% if body.never_there %}\n  {{ body.x | monee }}\n{% endif %}\n@center: {{ t('totl') }}\n",
    );
    let check = kassa(&["templates", "check", "--dir", dir.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1));
    let err = stderr(&check);
    assert!(err.contains("z_report.j2:3:15: unknown filter `monee`"), "{err}");
    assert!(err.contains("z_report.j2:5:16: unknown heading key `totl`"), "{err}");
    let strict = kassa(&[
        "render",
        "--sample",
        "z_report",
        "--format",
        "txt",
        "--strict",
        "--template-dir",
        dir.to_str().unwrap(),
        "-o",
        dir.join("z.txt").to_str().unwrap(),
    ]);
    assert!(!strict.status.success() && stderr(&strict).contains("monee"), "{}", stderr(&strict));
}
