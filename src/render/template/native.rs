//! The built-in Kazakh ticket (`templates/kz/ticket.j2`) written out in Rust: the same markup, line markers
//! included, without running minijinja over a context made from the whole document.
//!
//! The template stays the definition: this runs only for a template whose hash is [`TICKET_SHA256`] (the
//! built-in ticket, or a stored copy of it), and only for documents whose every value it reads is of a kind it
//! mirrors exactly (objects, strings, integers, booleans, null, arrays). Anything else (a float, a shadowed
//! `t`, a receipt large enough to come near the template's fuel or markup limits, a cancelled render) makes
//! it give up with [`Unsure`], and minijinja renders the template as before, with its limits and errors.
//! `tests` check that both give the same markup for every sample and for documents with fields missing,
//! null or of other kinds. A change to `ticket.j2` changes its hash: the test
//! `native_is_for_this_ticket` then fails until this file follows it (or the hash is updated after checking).
use super::lines;
use crate::render::headings;
use crate::render::markup::escape_into;
use crate::render::money;
use crate::render::options::RenderOptions;
use serde_json::Value as J;
use std::fmt::Write as _;

/// SHA-256 of the `templates/kz/ticket.j2` this module writes out.
pub const TICKET_SHA256: &str = "f0b10b955a9dbfed85a93c7d3f52155c0af41782d352be7e453a3e122052d17e";

/// Arrays elements (items, their taxes, payments, taxes, ads) past which minijinja renders: the built-in ticket
/// spends about 77 fuel an item, so a receipt this size stays far under [`super::FUEL`], as it does there.
const MAX_ELEMENTS: usize = 2000;

/// The document holds something this module does not mirror exactly: minijinja renders it.
#[derive(Debug, PartialEq, Eq)]
pub struct Unsure;

type R<T> = Result<T, Unsure>;

/// A template value: undefined (a missing field) or a document value.
#[derive(Clone, Copy, Debug)]
enum V<'a> {
    Undef,
    J(&'a J),
}

impl<'a> V<'a> {
    /// `v.key`: chainable, so a field of anything but an object is undefined.
    fn attr(self, key: &str) -> V<'a> {
        match self {
            V::J(J::Object(m)) => m.get(key).map_or(V::Undef, V::J),
            _ => V::Undef,
        }
    }

    fn truthy(self) -> bool {
        match self {
            V::Undef | V::J(J::Null) => false,
            V::J(J::Bool(b)) => *b,
            V::J(J::Number(n)) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => i != 0,
                (None, Some(u)) => u != 0,
                _ => n.as_f64().is_some_and(|f| f != 0.0),
            },
            V::J(J::String(s)) => !s.is_empty(),
            V::J(J::Array(a)) => !a.is_empty(),
            V::J(J::Object(m)) => !m.is_empty(),
        }
    }

    /// `a or b`.
    fn or(self, other: V<'a>) -> V<'a> {
        if self.truthy() { self } else { other }
    }

    /// `(x if x is sequence else [])`: undefined iterates as empty.
    fn seq(self) -> &'a [J] {
        match self {
            V::J(J::Array(a)) => a,
            _ => &[],
        }
    }

    /// `x == n` for an integer `n`.
    fn eq_int(self, n: i64) -> R<bool> {
        match self {
            V::J(J::Number(x)) if x.is_f64() => Err(Unsure),
            V::J(J::Number(x)) => Ok(x.as_i64() == Some(n)),
            V::J(J::Bool(_)) => Err(Unsure),
            _ => Ok(false),
        }
    }

    /// The value as `{{ }}` or `~` shows it, when it is one this module shows exactly.
    /// `none` is how null shows (`{{ }}` shows nothing; elsewhere it is not mirrored).
    fn display(self, out: &mut String, none: Option<&str>, escaped: bool) -> R<()> {
        match self {
            V::Undef => {}
            V::J(J::Null) => out.push_str(none.ok_or(Unsure)?),
            // Shown as Python shows it (`True`): not mirrored.
            V::J(J::Bool(_)) => return Err(Unsure),
            V::J(J::Number(n)) if n.is_f64() => return Err(Unsure),
            V::J(J::Number(n)) => {
                let _ = write!(out, "{n}");
            }
            V::J(J::String(s)) if escaped => escape_into(out, s),
            V::J(J::String(s)) => out.push_str(s),
            V::J(J::Array(_) | J::Object(_)) => return Err(Unsure),
        }
        Ok(())
    }
}

/// `int_of` of the template module: integers, and strings holding one.
fn int_of(v: V) -> R<Option<i128>> {
    Ok(match v {
        // A float or a boolean may convert to an integer there: not mirrored.
        V::J(J::Number(n)) if n.is_f64() => return Err(Unsure),
        V::J(J::Bool(_)) => return Err(Unsure),
        V::J(J::Number(n)) => n.as_i64().map(i128::from),
        V::J(J::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// `tiyn_of` of the template module.
fn tiyn_of(v: V) -> R<Option<i128>> {
    Ok(match v {
        V::J(J::Object(m)) => {
            let (bills, coins) = (m.get("bills"), m.get("coins"));
            if bills.is_none() && coins.is_none() {
                return Ok(None);
            }
            let b = match bills {
                Some(b) => int_of(V::J(b))?.unwrap_or(0),
                None => 0,
            };
            let c = match coins {
                Some(c) => int_of(V::J(c))?.unwrap_or(0),
                None => 0,
            };
            Some(money::from_parts(b, c))
        }
        V::J(J::Number(n)) if n.is_f64() => return Err(Unsure),
        V::J(J::Number(n)) => match n.as_i64() {
            Some(i) => Some(i as i128 * 100),
            None => money::parse_decimal(&n.to_string()).map(|f| f.rescale(2).units),
        },
        V::J(J::String(s)) => money::parse_decimal(s).map(|f| f.rescale(2).units),
        _ => None,
    })
}

/// The markup of the built-in ticket for `doc` (a document or the API's envelope), or [`Unsure`].
pub fn ticket(doc: &J, opts: &RenderOptions) -> R<String> {
    if super::cancelled() {
        return Err(Unsure);
    }
    let d = doc.get("response_data").filter(|v| v.is_object()).unwrap_or(doc);
    let fields = match d {
        J::Object(m) => m,
        _ => return Err(Unsure),
    };
    // A field named like a global the template calls would shadow it.
    if fields.contains_key("t") || fields.contains_key("namespace") {
        return Err(Unsure);
    }
    let mut w = Writer { out: String::with_capacity(4096), opts, headings: Vec::new() };
    w.ticket(V::J(d))?;
    if w.out.len() > super::MAX_MARKUP_BYTES / 2 {
        return Err(Unsure);
    }
    Ok(w.out)
}

struct Writer<'o> {
    out: String,
    opts: &'o RenderOptions,
    /// Headings already written, escaped, by their key (a literal of this file: compared by address).
    headings: Vec<(&'static str, String)>,
}

impl Writer<'_> {
    /// Starts the output of template line `n` (its marker).
    fn line(&mut self, n: usize, text: &str) {
        if let Some(m) = lines::marker(n) {
            self.out.push(m);
        }
        self.out.push_str(text);
    }

    fn nl(&mut self) {
        self.out.push('\n');
    }

    fn s(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// `{{ v }}`.
    fn v(&mut self, v: V) -> R<()> {
        v.display(&mut self.out, Some(""), true)
    }

    /// `{{ t(key) }}` for a key written here (each is asked for once per receipt, then copied).
    fn t(&mut self, key: &'static str) {
        if let Some((_, text)) = self.headings.iter().find(|(k, _)| std::ptr::eq(*k, key)) {
            self.out.push_str(text);
            return;
        }
        let start = self.out.len();
        self.t_any(key);
        let text = self.out[start..].to_string();
        self.headings.push((key, text));
    }

    /// `{{ t(key) }}`.
    fn t_any(&mut self, key: &str) {
        if let Some(custom) = self.opts.headings.get(key) {
            escape_into(&mut self.out, custom);
        } else if let Some(text) = headings::lookup(key, &self.opts.lang) {
            escape_into(&mut self.out, &text);
        } else {
            let marked = format!("{}{key}{}", super::UNKNOWN_HEADING_OPEN, super::UNKNOWN_HEADING_CLOSE);
            escape_into(&mut self.out, &marked);
        }
    }

    /// `{{ t(prefix ~ v) }}`.
    fn t_of(&mut self, prefix: &str, v: V) -> R<()> {
        let mut key = String::from(prefix);
        v.display(&mut key, None, false)?;
        self.t_any(&key);
        Ok(())
    }

    /// `{{ v | money }}`.
    fn money(&mut self, v: V) -> R<()> {
        if let Some(t) = tiyn_of(v)? {
            escape_into(&mut self.out, &money::format_tiyn(t));
        }
        Ok(())
    }

    /// `{{ v | qty }}`, `{{ v | percent }}`.
    fn thousandths(&mut self, v: V) -> R<()> {
        if let Some(i) = int_of(v)? {
            escape_into(&mut self.out, &money::format_thousandths(i));
        }
        Ok(())
    }

    /// `{{ v | dt }}`.
    fn dt(&mut self, v: V) -> R<()> {
        let text = match v {
            V::J(J::String(s)) => s.clone(),
            V::J(J::Object(_)) => {
                let triple = |p: V, a: &str, b: &str, c: &str| -> R<Option<(i64, i64, i64)>> {
                    if matches!(p, V::Undef | V::J(J::Null)) {
                        return Ok(None);
                    }
                    let get = |k: &str| -> R<i64> { Ok(int_of(p.attr(k))?.map(|x| x as i64).unwrap_or(0)) };
                    Ok(Some((get(a)?, get(b)?, get(c)?)))
                };
                let date = triple(v.attr("date"), "year", "month", "day")?;
                let time = triple(v.attr("time"), "hour", "minute", "second")?;
                money::format_datetime(date, time)
            }
            _ => String::new(),
        };
        escape_into(&mut self.out, &text);
        Ok(())
    }

    /// `{{ t('vat_incl') if included else t('vat') }} {{ percent | percent }}% | {{ sum | money }}` with the
    /// line's marker and its end.
    fn vat_line(&mut self, n: usize, included: bool, percent: &str, sum: &str) {
        self.line(n, "@row 1 a>: ");
        self.t(if included { "vat_incl" } else { "vat" });
        self.s(" ");
        escape_into(&mut self.out, percent);
        self.s("% | ");
        escape_into(&mut self.out, sum);
        self.nl();
    }

    /// A tax of `taxesList` (template lines 53, 86).
    fn tax(&mut self, n: usize, tx: V) -> R<()> {
        let percent = int_of(tx.attr("percent"))?.map(money::format_thousandths).unwrap_or_default();
        let sum = tiyn_of(tx.attr("sum"))?.map(money::format_tiyn).unwrap_or_default();
        self.vat_line(n, tx.attr("is_in_total_sum").truthy(), &percent, &sum);
        Ok(())
    }

    /// `@row 1 a>: {{ x.name or t(key) }} | SIGN{{ x.sum | money }}` (template lines 56–64).
    fn adjustment(&mut self, n: usize, x: V, key: &'static str, sign: &str) -> R<()> {
        self.adjustment_row(n, x, key, sign)?;
        self.nl();
        Ok(())
    }

    /// The line of an [`Self::adjustment`], left open.
    fn adjustment_row(&mut self, n: usize, x: V, key: &'static str, sign: &str) -> R<()> {
        self.line(n, "@row 1 a>: ");
        let name = x.attr("name");
        if name.truthy() {
            self.v(name)?
        } else {
            self.t(key)
        }
        self.s(" | ");
        self.s(sign);
        self.money(x.attr("sum"))
    }

    /// A `@row 1 a>: {{ t(key) }} | …` line opened.
    fn row(&mut self, n: usize, key: &'static str) {
        self.line(n, "@row 1 a>: ");
        self.t(key);
        self.s(" | ");
    }

    fn ticket(&mut self, ctx: V) -> R<()> {
        let b = ctx.attr("body");
        let reg_info = ctx.attr("reg_info");
        let org = reg_info.attr("org");
        let kkm = reg_info.attr("kkm");
        let items = b.attr("itemsList").seq();
        let taxes = b.attr("taxesList");
        let payments = b.attr("paymentsList").seq();
        let ads = ctx.attr("ads_info").seq();
        let item_taxes: usize = items.iter().map(|it| V::J(it).attr("commodity").attr("taxesList").seq().len()).sum();
        if items.len() + item_taxes + taxes.seq().len() + payments.len() + ads.len() > MAX_ELEMENTS {
            return Err(Unsure);
        }
        let is_dummy = ctx.attr("is_dummy").truthy();
        let is_offline = ctx.attr("is_offline").truthy();

        self.line(7, "@center bold: ");
        self.v(org.attr("title"))?;
        self.nl();
        self.line(8, "@center: ");
        self.t("bin");
        self.s(" ");
        self.v(org.attr("inn"))?;
        self.nl();
        let pos = reg_info.attr("pos");
        if pos.attr("title").truthy() {
            self.line(10, "@center: ");
            self.v(pos.attr("title"))?;
            self.nl();
        }
        if pos.attr("address").truthy() {
            self.line(13, "@center: ");
            self.v(pos.attr("address"))?;
            self.nl();
        }
        let cert = ctx.attr("vat_certificate");
        if cert.attr("is_printable").truthy() {
            self.line(16, "@center: ");
            self.t("vat_cert");
            self.nl();
            self.line(17, "@center: ");
            self.t("series");
            self.s(" ");
            self.v(cert.attr("series"))?;
            self.s(" ");
            self.t("number");
            self.s(" ");
            self.v(cert.attr("number"))?;
            self.nl();
        }
        self.line(19, "@rule\n");
        self.row(20, "znm");
        self.v(kkm.attr("serial_number"))?;
        self.nl();
        self.row(21, "rnm");
        self.v(kkm.attr("fns_kkm_id"))?;
        self.nl();
        if ctx.attr("kkm_local_name").truthy() {
            self.row(23, "kkm");
            self.v(ctx.attr("kkm_local_name"))?;
            self.nl();
        }
        self.row(25, "shift");
        self.v(ctx.attr("fr_shift_number").or(b.attr("fr_shift_number")))?;
        self.nl();
        self.row(26, "doc_no_shift");
        self.v(ctx.attr("shift_document_number").or(b.attr("shift_document_number")))?;
        self.nl();
        self.row(27, "date");
        self.dt(b.attr("date_time"))?;
        self.nl();
        self.row(28, "cashier");
        self.v(ctx.attr("operator_name").or(b.attr("operator").attr("name")))?;
        self.nl();
        self.line(29, "@rule\n");
        if is_dummy {
            self.line(31, "@center bold: *** КОНТРОЛЬНЫЙ ЧЕК ***\n");
        } else {
            self.line(33, "@center bold: ");
            self.t("fiscal_receipt");
            self.nl();
        }
        self.line(35, "@center bold tall: ");
        self.t_of("op.", b.attr("operation"))?;
        self.nl();
        let pt = b.attr("parent_ticket");
        if pt.truthy() {
            self.line(38, "@center: ");
            self.t("parent");
            self.nl();
            self.row(39, "fp");
            self.v(pt.attr("parent_ticket_number"))?;
            if pt.attr("parent_ticket_is_offline").truthy() {
                self.s(" (");
                self.t("autonomous");
                self.s(")");
            }
            self.nl();
            self.row(41, "date");
            self.dt(pt.attr("parent_ticket_date_time"))?;
            self.nl();
        }
        self.line(43, "@rule\n");
        let mut n = 0u64;
        for it in items {
            let it = V::J(it);
            let kind = it.attr("type");
            if kind.eq_int(1)? {
                n += 1;
                let c = it.attr("commodity");
                let mut unit = String::new();
                let code = c.attr("measure_unit_code");
                let code = match code {
                    V::J(J::String(s)) => s.clone(),
                    V::J(J::Number(x)) if x.is_f64() => return Err(Unsure),
                    V::J(J::Bool(_)) => return Err(Unsure),
                    V::J(J::Number(x)) => x.as_i64().map(|i| i.to_string()).unwrap_or_default(),
                    _ => String::new(),
                };
                if let Some(u) = headings::unit_in(&code, &self.opts.lang) {
                    unit = u;
                }
                self.line(50, "@row a 1: ");
                let _ = write!(self.out, "{n}. | ");
                self.v(c.attr("name"))?;
                self.nl();
                self.line(51, "@row 1 a>: ");
                self.thousandths(c.attr("quantity"))?;
                if !unit.is_empty() {
                    self.s(" ");
                    escape_into(&mut self.out, &unit);
                }
                self.s(" x ");
                self.money(c.attr("price"))?;
                self.s(" ");
                self.t("currency");
                self.s(" | = ");
                self.money(c.attr("sum"))?;
                self.s(" ");
                self.t("currency");
                self.nl();
                for tx in c.attr("taxesList").seq() {
                    self.tax(53, V::J(tx))?;
                }
                if tiyn_of(it.attr("discount").attr("sum"))?.is_some_and(|t| t != 0) {
                    self.adjustment(56, it.attr("discount"), "discount", "-")?;
                }
                if tiyn_of(it.attr("markup").attr("sum"))?.is_some_and(|t| t != 0) {
                    self.adjustment(59, it.attr("markup"), "markup", "+")?;
                }
            } else if kind.eq_int(5)? {
                self.adjustment(62, it.attr("discount"), "discount", "-")?;
            } else if kind.eq_int(3)? {
                self.adjustment(64, it.attr("markup"), "markup", "+")?;
            }
        }
        self.line(67, "@rule\n");
        let amounts = b.attr("amounts");
        if tiyn_of(amounts.attr("discount").attr("sum"))?.is_some_and(|t| t != 0) {
            self.total_adjustment(69, amounts.attr("discount"), "discount", "-")?;
        }
        if tiyn_of(amounts.attr("markup").attr("sum"))?.is_some_and(|t| t != 0) {
            self.total_adjustment(72, amounts.attr("markup"), "markup", "+")?;
        }
        self.line(74, "@row bold tall 1 a>: ");
        self.t("total");
        self.s(" | ");
        self.money(amounts.attr("total"))?;
        self.s(" ");
        self.t("currency");
        self.nl();
        for p in payments {
            let p = V::J(p);
            self.line(76, "@row 1 a>: ");
            self.t_of("pay.", p.attr("type"))?;
            self.s(" | ");
            self.money(p.attr("sum"))?;
            self.nl();
        }
        if tiyn_of(amounts.attr("taken"))?.is_some_and(|t| t != 0) {
            self.row(79, "taken");
            self.money(amounts.attr("taken"))?;
            self.nl();
        }
        if tiyn_of(amounts.attr("change"))?.is_some_and(|t| t != 0) {
            self.row(82, "change");
            self.money(amounts.attr("change"))?;
            self.nl();
        }
        // `b.taxesList is sequence and b.taxesList`: undefined counts as a sequence, but is false.
        if matches!(taxes, V::J(J::Array(a)) if !a.is_empty()) {
            for tx in taxes.seq() {
                self.tax(86, V::J(tx))?;
            }
        } else {
            for (percent, included, sum) in vat_totals(items)? {
                let percent = money::format_thousandths(percent as i64 as i128);
                let sum = money::format_tiyn(money::from_parts((sum / 100) as i64 as i128, (sum % 100) as i64 as i128));
                self.vat_line(91, included, &percent, &sum);
            }
        }
        let customer = b.attr("extension_options").attr("customer_iin_or_bin");
        if customer.truthy() {
            self.row(95, "customer");
            self.v(customer)?;
            self.nl();
        }
        self.line(97, "@rule\n");
        let fp = ctx.attr("fiscal_id").or(b.attr("offline_ticket_number"));
        if is_offline {
            self.line(100, "@center bold inverse: ");
            self.t("autonomous");
            self.nl();
        }
        if fp.truthy() {
            self.line(103, "@row 1 a>: ");
            self.t("fp");
            if is_offline {
                self.s(" (");
                self.t("autonomous");
                self.s(")");
            }
            self.s(" | ");
            self.v(fp)?;
            self.nl();
        }
        if !is_dummy {
            let qr = ctx.attr("qr_code");
            if qr.truthy() {
                self.line(108, "@qr ");
                self.v(qr)?;
                self.nl();
            }
            let ofd_name = ctx.attr("ofd_name");
            if ofd_name.truthy() {
                self.line(111, "@center: ");
                self.t("ofd");
                self.s(": ");
                self.v(ofd_name)?;
                self.nl();
            }
            let ofd_url = ctx.attr("ofd_url");
            if ofd_url.truthy() {
                self.line(114, "@center: ");
                self.t("check_site");
                self.nl();
                self.line(115, "@center: ");
                self.v(ofd_url)?;
                self.nl();
            }
        }
        if !ads.is_empty() {
            // `ad_text(fiscal_id or b.offline_ticket_number)`: the number as text, empty when missing.
            let mut number = String::new();
            if !matches!(fp, V::Undef | V::J(J::Null)) {
                fp.display(&mut number, None, false)?;
            }
            for ad in ads {
                self.line(119, "@rule\n");
                let text = match V::J(ad).attr("Text") {
                    V::J(J::String(s)) => s.replace("${ticket_number}", &number),
                    _ => String::new(),
                };
                for l in text.lines() {
                    self.line(121, "@center: ");
                    escape_into(&mut self.out, l);
                    self.nl();
                }
            }
        }
        self.line(124, "@rule\n");
        if is_dummy {
            self.line(126, "@center bold: *** КОНТРОЛЬНЫЙ ЧЕК ***\n");
        } else {
            self.line(128, "@center bold: ");
            self.t("fiscal_receipt");
            self.nl();
        }
        // The template's last line break is not output (minijinja drops the source's trailing newline).
        self.line(130, "@cut");
        Ok(())
    }

    /// `@row 1 a>: {{ x.name or t(key) }} | SIGN{{ x.sum | money }} {{ t('currency') }}` (lines 69, 72).
    fn total_adjustment(&mut self, n: usize, x: V, key: &'static str, sign: &str) -> R<()> {
        self.adjustment_row(n, x, key, sign)?;
        self.s(" ");
        self.t("currency");
        self.nl();
        Ok(())
    }
}

/// `vat_totals` of the template module over `items`: (percent, included, sum in tiyn) by rate, in the order the
/// rates first appear.
fn vat_totals(items: &[J]) -> R<Vec<(i128, bool, i128)>> {
    let mut totals: Vec<(i128, bool, i128)> = Vec::new();
    for item in items {
        let taxes = match V::J(item).attr("commodity").attr("taxesList") {
            V::J(J::Array(a)) => a,
            V::Undef => continue,
            // A string or an object would be iterated by characters or keys: not mirrored.
            V::J(_) => return Err(Unsure),
        };
        for tx in taxes {
            let tx = V::J(tx);
            let percent = int_of(tx.attr("percent"))?.unwrap_or(0);
            let included = tx.attr("is_in_total_sum").truthy();
            let sum = tiyn_of(tx.attr("sum"))?.unwrap_or(0);
            match totals.iter_mut().find(|(p, i, _)| (*p, *i) == (percent, included)) {
                Some((_, _, total)) => *total += sum,
                None => totals.push((percent, included, sum)),
            }
        }
    }
    Ok(totals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::TemplateKey;
    use crate::render::template::{render_markup, store};

    fn builtin() -> crate::render::TemplateUsed {
        (*store::builtin(TemplateKey::TICKET).expect("built-in ticket")).clone()
    }

    /// Native and minijinja markup of `doc`: the same when native is sure; whether it was.
    fn same(doc: &J, opts: &RenderOptions, what: &str) -> bool {
        let theirs = render_markup(&builtin(), &crate::render::context(doc, opts));
        match (ticket(doc, opts), theirs) {
            (Ok(ours), Ok(theirs)) => {
                assert_eq!(ours, theirs, "{what}");
                true
            }
            (Ok(_), Err(e)) => panic!("{what}: minijinja fails ({e}) where native renders"),
            (Err(Unsure), _) => false,
        }
    }

    #[test]
    fn native_is_for_this_ticket() {
        assert_eq!(
            builtin().sha256,
            TICKET_SHA256,
            "templates/kz/ticket.j2 changed: make src/render/template/native.rs write the same markup, then update \
             TICKET_SHA256"
        );
    }

    #[test]
    fn same_markup_for_every_sample_language_and_heading() {
        let mut custom = RenderOptions::default();
        custom.headings.insert("total".into(), "ЖИЫНЫ | @all".into());
        custom.headings.insert("op.2".into(), "SALE".into());
        for sample in crate::render::samples::samples(TemplateKey::TICKET) {
            for lang in ["ru", "kk", "ru+kk", "kk+ru", "en"] {
                for copy in [false, true] {
                    let opts = RenderOptions { lang: lang.into(), copy, ..custom.clone() };
                    assert!(same(&sample.document, &opts, &format!("{} {lang}", sample.name)), "{}", sample.name);
                    let plain = RenderOptions { lang: lang.into(), copy, ..RenderOptions::default() };
                    assert!(same(&sample.document, &plain, sample.name), "{}", sample.name);
                }
            }
        }
    }

    /// Every value of the document in turn removed, or replaced by null, another kind of value, or text that
    /// markup escapes: native writes what minijinja writes, or leaves it to minijinja.
    #[test]
    fn same_markup_for_missing_null_and_odd_values() {
        fn paths(v: &J, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            let children: Vec<(String, &J)> = match v {
                J::Object(m) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
                // The first two elements of a list stand for the rest.
                J::Array(a) => a.iter().take(2).enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
                _ => Vec::new(),
            };
            for (k, child) in children {
                at.push(k);
                out.push(at.clone());
                paths(child, at, out);
                at.pop();
            }
        }
        fn edit(v: &mut J, path: &[String], to: Option<&J>) {
            let (last, head) = path.split_last().expect("a path");
            let mut cur = v;
            for k in head {
                cur = match cur {
                    J::Object(m) => m.get_mut(k).expect("path"),
                    J::Array(a) => &mut a[k.parse::<usize>().expect("index")],
                    _ => return,
                };
            }
            match (cur, to) {
                (J::Object(m), None) => {
                    m.shift_remove(last);
                }
                (J::Object(m), Some(to)) => {
                    m.insert(last.clone(), to.clone());
                }
                (J::Array(a), None) => {
                    a.remove(last.parse::<usize>().expect("index"));
                }
                (J::Array(a), Some(to)) => a[last.parse::<usize>().expect("index")] = to.clone(),
                _ => {}
            }
        }
        let replacements = [
            None,
            Some(J::Null),
            Some(serde_json::json!("")),
            Some(serde_json::json!("7 | @cut \\ x\ny")),
            Some(serde_json::json!("1250")),
            Some(serde_json::json!(0)),
            Some(serde_json::json!(3)),
            Some(serde_json::json!(-125)),
            Some(serde_json::json!(18446744073709551615u64)),
            Some(serde_json::json!(1.5)),
            Some(serde_json::json!(true)),
            Some(serde_json::json!(false)),
            Some(serde_json::json!([])),
            Some(serde_json::json!([{"percent": 12000, "sum": {"bills": 1}}])),
            Some(serde_json::json!({})),
            Some(serde_json::json!({"bills": "12", "coins": 5, "year": 2024, "date": {"year": 1}})),
        ];
        let opts = RenderOptions { lang: "ru+kk".into(), ..RenderOptions::default() };
        let (mut sure, mut all) = (0, 0);
        for name in ["ticket_sale", "ticket_offline", "ticket_return", "ticket_markup"] {
            let doc = crate::render::samples::sample(name).expect("sample").document;
            let mut found = Vec::new();
            paths(&doc, &mut Vec::new(), &mut found);
            for path in &found {
                for to in &replacements {
                    let mut d = doc.clone();
                    edit(&mut d, path, to.as_ref());
                    all += 1;
                    if same(&d, &opts, &format!("{name} {path:?} -> {to:?}")) {
                        sure += 1;
                    }
                }
            }
        }
        // Most edits stay on the fast path (floats, booleans in numbers and the like leave it).
        assert!(sure * 4 > all * 3, "{sure} of {all}");
    }

    /// The document's own fields (inside `response_data` when the sample has the envelope).
    fn fields(doc: &mut J) -> &mut J {
        if doc.get("response_data").is_some_and(J::is_object) { &mut doc["response_data"] } else { doc }
    }

    #[test]
    fn per_item_taxes_shadowed_globals_and_large_receipts() {
        let opts = RenderOptions::default();
        let mut doc = crate::render::samples::sample("ticket_20_items_kk").expect("sample").document;
        let body = &mut fields(&mut doc)["body"];
        let taxes = body.as_object_mut().and_then(|b| b.shift_remove("taxesList"));
        assert!(taxes.is_some());
        let items = body["itemsList"].as_array_mut().expect("items");
        for (i, it) in items.iter_mut().enumerate() {
            if let Some(c) = it.get_mut("commodity") {
                c["taxesList"] = serde_json::json!([{"percent": if i % 2 == 0 { 12000 } else { 0 },
                    "is_in_total_sum": i % 3 != 0, "sum": {"bills": i, "coins": 7 * i % 100}}]);
            }
        }
        assert!(same(&doc, &opts, "per-item taxes"));
        let mut shadow = doc.clone();
        fields(&mut shadow)["t"] = serde_json::json!("x");
        assert_eq!(ticket(&shadow, &opts), Err(Unsure));
        let mut large = doc.clone();
        let body = &mut fields(&mut large)["body"];
        let one = body["itemsList"][0].clone();
        body["itemsList"] = J::Array(vec![one; MAX_ELEMENTS + 1]);
        assert_eq!(ticket(&large, &opts), Err(Unsure));
    }
}
