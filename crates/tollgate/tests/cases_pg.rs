//! The data-driven check cases (`tests/cases/*.case`) on PostgreSQL, compared with the local
//! engine finding by finding. Each case's data is read by the local engine (DataFusion infers
//! the schema), loaded with COPY into a table of mapped types in a schema of its own, and the
//! case's suite runs against a `postgres:` source. For a check PostgreSQL runs, the finding's
//! line must equal the local one, except the sampled row positions (a table has no row order:
//! the sample's size is compared instead). For a check it does not run, the finding must be an
//! error saying so. Needs `TOLLGATE_TEST_PG_URL` (`bash .ci/run` sets it); without it the test
//! fails, saying how.

use std::collections::BTreeMap;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use tokio_postgres::{Client, NoTls};
use tollgate::core::PgSourceDecl;
use tollgate::data::value::V;
use tollgate::{Engine, Finding, SourceDecl, Status};

#[path = "common/cases.rs"]
mod format;

const URL_ENV: &str = "TOLLGATE_TEST_PG_URL";

/// Checks that do not run on PostgreSQL: their findings must be errors saying so.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("increasing", "a table's rows have no order"),
    ("decreasing", "a table's rows have no order"),
    ("date_format", "tollgate's own date parser"),
    ("date_parseable", "tollgate's own date parser"),
    ("json_parseable", "tollgate's own JSON parser"),
    ("json_schema", "tollgate's own JSON Schema validator"),
];

/// Findings that differ for a reason that is not a bug: (case, the start of the local line,
/// why). Each must still differ (a stale entry fails the test).
const INHERENT: &[(&str, &str, &str)] = &[
    (
        "a CSV column pinned to a type counts values that do not convert",
        "type n:",
        "a `type` check pins a CSV column and counts the text that does not convert; a \
         PostgreSQL column has a declared type (here text, as the local engine infers it)",
    ),
    (
        "a CSV column pinned to a type counts values that do not convert",
        "between n:",
        "pinned to int64 on the CSV, the column is text in PostgreSQL: a numeric bound is an error",
    ),
    (
        "dates and timestamps with ISO bounds",
        "type d:",
        "a `type` check pins a CSV column (judged by conversion); a PostgreSQL column has a \
         declared type (judged by name)",
    ),
    (
        "an all-null column passes value checks (no values) and fails aggregates",
        "between b:",
        "an all-null CSV column has no type (Null); a PostgreSQL column always has one (text \
         here), against which a numeric bound is an error",
    ),
    (
        "an all-null column passes value checks (no values) and fails aggregates",
        "mean b:",
        "an all-null CSV column has no type; `mean` of a text column is an error",
    ),
    (
        "empty data",
        "between a:",
        "the columns of an empty CSV file have no type; a PostgreSQL column has one (text here)",
    ),
    (
        "empty data",
        "max b:",
        "the columns of an empty CSV file have no type; a numeric bound on a text column is an \
         error",
    ),
];

fn url() -> String {
    std::env::var(URL_ENV).unwrap_or_else(|_| {
        panic!(
            "{URL_ENV} is not set: this test needs a PostgreSQL server. Start one and set it, e.g.\n  \
             pg_ctlcluster 15 main start\n  \
             export {URL_ENV}=postgres://tollgate:tollgate@localhost:5432/tollgate\n\
             (bash .ci/run does all of this; see crates/tollgate/tests/postgres.rs)"
        )
    })
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The PostgreSQL type of a column the local engine inferred (`None`: not mapped).
fn pg_type(dt: &DataType) -> Option<&'static str> {
    Some(match dt {
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "int2",
        DataType::Int32 | DataType::UInt16 => "int4",
        DataType::Int64 | DataType::UInt32 => "int8",
        DataType::Float16 | DataType::Float32 => "float4",
        DataType::Float64 => "float8",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text",
        DataType::Boolean => "bool",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(_, None) => "timestamp",
        DataType::Timestamp(_, Some(_)) => "timestamptz",
        // An all-null column (or an empty CSV file) has no type; a table's column has one.
        DataType::Null => "text",
        _ => return None,
    })
}

/// The rows as COPY's CSV: text always quoted, null as an empty unquoted field.
fn copy_text(batch: &RecordBatch) -> Result<String, String> {
    let mut out = String::new();
    for r in 0..batch.num_rows() {
        let mut fields = Vec::new();
        for col in batch.columns() {
            fields.push(match V::from_array(col, r) {
                V::Null => String::new(),
                V::Int(i) => i.to_string(),
                V::Float(f) => format!("{f:?}"),
                V::Bool(b) => b.to_string(),
                V::Str(s) => format!("\"{}\"", s.replace('"', "\"\"")),
                V::Date(d) => d.format("%Y-%m-%d").to_string(),
                V::Time(t) => t.format("%Y-%m-%d %H:%M:%S%.f").to_string(),
                V::List(_) => return Err("a list value cannot be loaded".into()),
            });
        }
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    Ok(out)
}

async fn load(client: &Client, table: &str, batch: &RecordBatch) -> Result<(), String> {
    use futures::SinkExt;
    let mut cols = Vec::new();
    for f in batch.schema().fields() {
        let ty = pg_type(f.data_type())
            .ok_or_else(|| format!("no PostgreSQL type for {}", f.data_type()))?;
        cols.push(format!("{} {ty}", quote(f.name())));
    }
    client
        .batch_execute(&format!("CREATE TABLE {table} ({})", cols.join(", ")))
        .await
        .map_err(|e| format!("create table: {e}"))?;
    let rows = copy_text(batch)?;
    let sink = client
        .copy_in::<_, bytes::Bytes>(&format!("COPY {table} FROM STDIN WITH (FORMAT csv)"))
        .await
        .map_err(|e| format!("copy: {e}"))?;
    futures::pin_mut!(sink);
    sink.send(bytes::Bytes::from(rows))
        .await
        .map_err(|e| format!("copy rows: {e}"))?;
    sink.close().await.map_err(|e| format!("copy: {e:?}"))?;
    Ok(())
}

/// A finding's line without the sampled row positions, with the sample's size instead.
fn comparable(f: &Finding) -> String {
    let line = format::line(f);
    let line = match line.find(" rows=[") {
        Some(i) => line[..i].to_string(),
        None => line,
    };
    if f.sample.is_empty() || f.status == Status::Error {
        line
    } else {
        format!("{line} sample={}", f.sample.len())
    }
}

/// Where the engine's own message starts in an error (`invalid SQL condition `...`: ` or
/// `` `condition` failed while running: ``): DataFusion and PostgreSQL word theirs differently.
fn engine_text_at(msg: &str) -> Option<usize> {
    if msg.starts_with("invalid SQL ") {
        return msg.find("`: ").map(|i| i + 3);
    }
    const RUNNING: &str = "` failed while running: ";
    msg.find(RUNNING).map(|i| i + RUNNING.len())
}

/// An error finding's line without the engine's own words (`None`: not such an error).
fn without_engine_text(f: &Finding) -> Option<String> {
    let msg = f.error.as_deref().filter(|_| f.status == Status::Error)?;
    let at = engine_text_at(msg)?;
    let line = comparable(f);
    line.strip_suffix(&msg[at..]).map(str::to_string)
}

#[derive(Default)]
struct Tally {
    cases: usize,
    compared: usize,
    engine_messages: usize,
    inherent: usize,
    unsupported: BTreeMap<String, usize>,
    failures: Vec<String>,
}

fn compare(case: &format::Case, l: &Finding, p: &Finding, used: &mut [bool], tally: &mut Tally) {
    let id = format!("{} / {}", case.file, case.name);
    let (ll, pl) = (comparable(l), comparable(p));
    if let Some((check, _)) = UNSUPPORTED.iter().find(|(c, _)| *c == l.check) {
        let msg = p.error.clone().unwrap_or_default();
        if p.status == Status::Error && msg.contains("not supported on PostgreSQL") {
            *tally.unsupported.entry(check.to_string()).or_default() += 1;
        } else {
            tally.failures.push(format!(
                "{id}: `{check}` must be an error saying it is not supported on PostgreSQL\n  got: {pl}"
            ));
        }
        return;
    }
    let inherent = INHERENT
        .iter()
        .position(|(c, start, _)| *c == case.name && ll.starts_with(start));
    if let Some(i) = inherent {
        used[i] = true;
        if ll == pl {
            tally.failures.push(format!(
                "{id}: listed as an inherent difference but equal now (remove it from INHERENT): {ll}"
            ));
        } else {
            tally.inherent += 1;
        }
        return;
    }
    let same = match (without_engine_text(l), without_engine_text(p)) {
        // Both engines' own words: the same up to them.
        (Some(a), Some(b)) => {
            tally.engine_messages += usize::from(a == b);
            a == b
        }
        _ => ll == pl,
    };
    if same {
        tally.compared += 1;
    } else {
        tally.failures.push(format!(
            "{id}: findings differ\n  local:      {ll}\n  PostgreSQL: {pl}"
        ));
    }
}

async fn run_case(
    client: &Client,
    case: &format::Case,
    n: usize,
    used: &mut [bool],
    tally: &mut Tally,
) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    std::fs::write(dir.path().join(&case.data_name), &case.data).map_err(|e| e.to_string())?;
    let Ok(suite) = tollgate::parse_suite(&case.suite, &case.name) else {
        // A suite that does not parse is the local runner's business.
        return Ok(());
    };
    tally.cases += 1;
    let engine = Engine::default();
    let file = SourceDecl::file("data", &case.data_name);
    let suites = std::slice::from_ref(&suite);
    let local = tollgate::run_suites(&engine, &file, suites, dir.path()).await;
    // The comparison is against the findings the case file vouches for.
    let lines = format::render(&local);
    if lines.len() != case.expect.len()
        || !case
            .expect
            .iter()
            .zip(&lines)
            .all(|(e, g)| format::matches(e, g))
    {
        return Err(format!(
            "the local engine does not give the expected findings (see the `it` test):\n    {}",
            lines.join("\n    ")
        ));
    }
    let rows = engine
        .read_rows(&file, dir.path(), None)
        .await
        .map_err(|e| format!("read the data: {e}"))?;
    let schema = format!("tg_cases_{}_{n}", std::process::id());
    client
        .batch_execute(&format!("CREATE SCHEMA {}", quote(&schema)))
        .await
        .map_err(|e| format!("create schema: {e}"))?;
    let table = format!("{}.t", quote(&schema));
    let run = async {
        load(client, &table, &rows).await?;
        let mut source = SourceDecl::file("data", &format!("{schema}.t"));
        source.postgres = Some(PgSourceDecl {
            url_env: URL_ENV.into(),
            table: format!("{schema}.t"),
        });
        Ok::<_, String>(tollgate::run_suites(&engine, &source, suites, dir.path()).await)
    }
    .await;
    client
        .batch_execute(&format!("DROP SCHEMA {} CASCADE", quote(&schema)))
        .await
        .map_err(|e| format!("drop schema: {e}"))?;
    let db = run?;
    let (l, p) = (&local.tests[0], &db.tests[0]);
    if l.error.is_some() != p.error.is_some() {
        return Err(format!(
            "test error differs: local {:?}, PostgreSQL {:?}",
            l.error, p.error
        ));
    }
    if l.findings.len() != p.findings.len() {
        return Err(format!(
            "{} findings locally, {} on PostgreSQL:\n    {}",
            l.findings.len(),
            p.findings.len(),
            p.findings
                .iter()
                .map(comparable)
                .collect::<Vec<_>>()
                .join("\n    ")
        ));
    }
    if l.rows != p.rows && l.error.is_none() {
        return Err(format!("rows: local {:?}, PostgreSQL {:?}", l.rows, p.rows));
    }
    for (lf, pf) in l.findings.iter().zip(&p.findings) {
        compare(case, lf, pf, used, tally);
    }
    Ok(())
}

#[tokio::test]
async fn check_cases_on_postgres_equal_the_local_engine() {
    let (client, conn) = tokio_postgres::connect(&url(), NoTls)
        .await
        .expect("connect to TOLLGATE_TEST_PG_URL");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    // COPY reads timestamps with a time zone in the session's zone: UTC, as the local engine.
    client
        .batch_execute("SET TimeZone = 'UTC'")
        .await
        .expect("set time zone");
    let mut tally = Tally::default();
    let mut used = vec![false; INHERENT.len()];
    for (n, case) in format::all().iter().enumerate() {
        if let Err(e) = run_case(&client, case, n, &mut used, &mut tally).await {
            tally
                .failures
                .push(format!("{} / {}: {e}", case.file, case.name));
        }
    }
    for (i, (case, start, _)) in INHERENT.iter().enumerate() {
        if !used[i] {
            tally.failures.push(format!(
                "INHERENT names a finding no case has (remove it): {case} / {start}"
            ));
        }
    }
    let unsupported: Vec<String> = tally
        .unsupported
        .iter()
        .map(|(c, k)| format!("{c} ×{k}"))
        .collect();
    println!(
        "PostgreSQL cases: {} cases, {} findings equal to the local engine's ({} of them errors \
         compared up to the engine's own message), {} inherent differences, unsupported: {}",
        tally.cases,
        tally.compared,
        tally.engine_messages,
        tally.inherent,
        if unsupported.is_empty() {
            "none".to_string()
        } else {
            unsupported.join(", ")
        }
    );
    assert!(tally.cases > 0, "no cases ran");
    assert!(
        tally.failures.is_empty(),
        "{} mismatches:\n\n{}",
        tally.failures.len(),
        tally.failures.join("\n\n")
    );
}

#[test]
fn loaded_values_keep_nulls_quotes_and_special_floats() {
    use std::sync::Arc;

    use datafusion::arrow::array::{ArrayRef, Float64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    let schema = Schema::new(vec![
        Field::new("s", DataType::Utf8, true),
        Field::new("x", DataType::Float64, true),
    ]);
    let s: ArrayRef = Arc::new(StringArray::from(vec![Some("a\"b,c"), None, Some("")]));
    let x: ArrayRef = Arc::new(Float64Array::from(vec![Some(f64::NAN), Some(-1.5), None]));
    let batch = RecordBatch::try_new(Arc::new(schema), vec![s, x]).expect("batch");
    assert_eq!(
        copy_text(&batch),
        Ok("\"a\"\"b,c\",NaN\n,-1.5\n\"\",\n".to_string())
    );
}
