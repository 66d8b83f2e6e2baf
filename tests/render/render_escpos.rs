//! ESC/POS output read back by a small interpreter written here, independent of the encoder:
//! with `raster_everything` the decoded raster must equal the PNG pixel for pixel, and in text
//! mode Kazakh lines must go as raster on CP866 printers but as KZ-1048 text where offered.
use kassa::render::backend::png::decode_bitmap;
use kassa::render::{Format, PrinterProfile, RenderOptions, Renderer, RendererConfig, TemplateKey};

fn fixture(name: &str) -> serde_json::Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

/// What a printer would do with our bytes: raster rows stacked, plus cut/drawer events.
#[derive(Default, Debug)]
struct Printed {
    width_bytes: usize,
    rows: Vec<Vec<u8>>,
    text_bytes: Vec<u8>,
    code_pages: Vec<u8>,
    cuts: usize,
    user_chars: usize,
}

fn interpret(b: &[u8]) -> Printed {
    let mut p = Printed::default();
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1).copied()) {
            (0x1B, Some(b'@')) | (0x1C, Some(b'.')) => i += 2,
            (0x1B, Some(b't')) => {
                p.code_pages.push(b[i + 2]);
                i += 3;
            }
            (0x1B, Some(b'E' | b'a' | b'd' | b'3' | b'J' | b'%')) | (0x1D, Some(b'!' | b'B')) => i += 3,
            (0x1B, Some(b'&')) => {
                // ESC & y c1 c2, then per character x and y × x bytes.
                let (y, c1, c2) = (b[i + 2] as usize, b[i + 3], b[i + 4]);
                p.user_chars += usize::from(c2 - c1) + 1;
                i += 5;
                for _ in c1..=c2 {
                    i += 1 + b[i] as usize * y;
                }
            }
            (0x1B, Some(b'p')) => i += 5,
            (0x1D, Some(b'V')) => {
                p.cuts += 1;
                i += 4;
            }
            (0x1D, Some(b'v')) => {
                assert_eq!(b[i + 2], b'0', "GS v 0");
                assert_eq!(b[i + 3], 0, "normal density");
                let x = b[i + 4] as usize | (b[i + 5] as usize) << 8;
                let y = b[i + 6] as usize | (b[i + 7] as usize) << 8;
                assert!(p.width_bytes == 0 || p.width_bytes == x, "raster width changed");
                p.width_bytes = x;
                let data = &b[i + 8..i + 8 + x * y];
                p.rows.extend(data.chunks(x).map(<[u8]>::to_vec));
                i += 8 + x * y;
            }
            (0x1D, Some(b'(')) => {
                let n = b[i + 3] as usize | (b[i + 4] as usize) << 8;
                i += 5 + n;
            }
            (0x0A, _) => i += 1,
            (c, _) if c >= 0x20 => {
                p.text_bytes.push(c);
                i += 1;
            }
            (c, _) => panic!("unexpected byte {c:02X} at {i}"),
        }
    }
    p
}

#[test]
fn raster_everything_equals_png() {
    let r = Renderer::new(RendererConfig::default());
    for name in ["ticket_20_items_kk", "ticket_sale", "z_report", "money_placement"] {
        let kind = kassa::country::kz::front::print::template_of_document(&fixture(name)).expect("kind");
        for profile in [PrinterProfile::generic_58mm(), PrinterProfile::generic_80mm()] {
            let mut profile = profile;
            profile.raster_everything = true;
            profile.raster_band_rows = 100; // several bands, last one partial
            let opts = RenderOptions {
                image_width: profile.width_dots as i64,
                profile,
                copy: true,
                ..RenderOptions::default()
            };
            let esc = r.render(kind, &fixture(name), &opts, Format::EscPos).expect("escpos");
            let png = r.render(kind, &fixture(name), &opts, Format::Png).expect("png");
            let printed = interpret(&esc.bytes);
            assert!(printed.text_bytes.is_empty(), "raster only");
            assert_eq!(printed.cuts, 1);
            let bm = decode_bitmap(&png.bytes).expect("png decodes");
            assert_eq!(printed.width_bytes, bm.stride, "{name}");
            assert_eq!(printed.rows.len(), bm.height as usize, "{name}: height");
            let ink: usize = bm.bits.iter().map(|b| b.count_ones() as usize).sum();
            assert!(ink > 10_000, "{name}: the receipt has ink");
            for (y, row) in printed.rows.iter().enumerate() {
                assert_eq!(row[..], bm.bits[y * bm.stride..(y + 1) * bm.stride], "{name}: row {y}");
            }
        }
    }
}

#[test]
fn kazakh_lines_raster_on_cp866_and_text_on_kz1048() {
    let r = Renderer::new(RendererConfig::default());
    let doc = fixture("ticket_20_items_kk");
    let opts = |profile| RenderOptions { lang: "kk".into(), profile, ..RenderOptions::default() };
    let cp866 = interpret(
        &r.render(TemplateKey::TICKET, &doc, &opts(PrinterProfile::generic_58mm()), Format::EscPos)
            .expect("render")
            .bytes,
    );
    assert_eq!(cp866.code_pages, vec![17]);
    assert!(!cp866.rows.is_empty(), "Kazakh lines and the QR code went as raster");
    // Russian text still goes as CP866 text: "Для Макса" = 84 AB EF 20 8C A0 AA E1 A0.
    let dlya = [0x84, 0xAB, 0xEF, 0x20, 0x8C, 0xA0, 0xAA, 0xE1, 0xA0];
    assert!(cp866.text_bytes.windows(dlya.len()).any(|w| w == dlya));

    let kz = interpret(
        &r.render(TemplateKey::TICKET, &doc, &opts(PrinterProfile::epson_80mm_kz()), Format::EscPos)
            .expect("render")
            .bytes,
    );
    assert_eq!(kz.code_pages, vec![53]);
    assert!(kz.rows.is_empty(), "everything is text, QR native: no raster");
    assert_eq!(
        kz.user_chars, 2,
        "₸, which KZ-1048 lacks, is the one letter downloaded (plain, and bold for the total)"
    );
    // "Қымыз" in KZ-1048: 8D FB EC FB E7.
    let qymyz = [0x8D, 0xFB, 0xEC, 0xFB, 0xE7];
    assert!(kz.text_bytes.windows(5).any(|w| w == qymyz));
}
