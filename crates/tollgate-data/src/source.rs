//! Sources: a file, a glob or a directory of part files (hive-style `key=value` directories
//! become columns), in CSV (optionally gzip/zstd/bzip2/xz compressed), Parquet, JSON lines or
//! Arrow IPC, registered in DataFusion behind a provider that counts scans.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::Statistics;
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::datasource::file_format::options::{ArrowReadOptions, ReadOptions};
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::*;
use tollgate_core::plan::{CsvOptions, Format};

use crate::error::{DataError, Result, engine_message};

/// Where the rows of a source come from, resolved against the file system.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The location given by the user (for messages).
    pub display: String,
    /// The files, in name order.
    pub files: Vec<PathBuf>,
    /// What DataFusion lists: the file, the directory, or the glob.
    pub url: String,
    /// Data format.
    pub format: Format,
    /// Compression of the files.
    pub compression: FileCompressionType,
    /// The file-name suffix that every data file has (e.g. `.csv.gz`).
    pub extension: String,
    /// Hive-style partition columns found in directory names.
    pub partition_cols: Vec<String>,
}

/// Resolve a path (relative to `base`), a glob or a directory.
pub fn resolve(path: &str, base: &Path, format: Option<Format>) -> Result<Resolved> {
    let full = if Path::new(path).is_absolute() {
        PathBuf::from(path)
    } else {
        base.join(path)
    };
    let full_str = full.to_string_lossy().to_string();
    let is_glob = path.contains(['*', '?', '[']);
    let (files, root) = if is_glob {
        let entries = glob::glob(&full_str)
            .map_err(|e| DataError::Source(format!("{path}: invalid glob pattern: {e}")))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(DataError::Source(format!(
                "{path}: no files match this pattern"
            )));
        }
        (files, None)
    } else if full.is_dir() {
        let mut files = Vec::new();
        walk(&full, &mut files)
            .map_err(|e| DataError::Source(format!("{path}: cannot list directory: {e}")))?;
        files.sort();
        if files.is_empty() {
            return Err(DataError::Source(format!(
                "{path}: the directory holds no data files"
            )));
        }
        (files, Some(full.clone()))
    } else if full.is_file() {
        (vec![full.clone()], None)
    } else {
        return Err(DataError::Source(format!(
            "{path}: no such file or directory"
        )));
    };
    let first = files[0].to_string_lossy().to_string();
    let format = match format.or_else(|| Format::from_path(&first)) {
        Some(f) => f,
        None => {
            return Err(DataError::Source(format!(
                "{}: cannot tell the format from the file name; add `format: csv|parquet|json|arrow` to the source",
                first
            )));
        }
    };
    let lower = first.to_lowercase();
    let compression = if lower.ends_with(".gz") {
        FileCompressionType::GZIP
    } else if lower.ends_with(".zst") || lower.ends_with(".zstd") {
        FileCompressionType::ZSTD
    } else if lower.ends_with(".bz2") {
        FileCompressionType::BZIP2
    } else if lower.ends_with(".xz") {
        FileCompressionType::XZ
    } else {
        FileCompressionType::UNCOMPRESSED
    };
    if compression != FileCompressionType::UNCOMPRESSED
        && !matches!(format, Format::Csv | Format::Json)
    {
        return Err(DataError::Source(format!(
            "{first}: only CSV and JSON files may be compressed as a whole"
        )));
    }
    let name = files[0]
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    // The format's suffix (with a compression suffix): `events.2024.csv` -> `.csv`.
    let lower_name = name.to_lowercase();
    let extension = match [".gz", ".zst", ".zstd", ".bz2", ".xz"]
        .iter()
        .find(|s| lower_name.ends_with(*s))
    {
        Some(comp) => {
            let stem = &name[..name.len() - comp.len()];
            match stem.rfind('.') {
                Some(i) => name[i..].to_string(),
                None => comp.to_string(),
            }
        }
        None => match name.rfind('.') {
            Some(i) => name[i..].to_string(),
            None => String::new(),
        },
    };
    // Every file of a collection must share the suffix: DataFusion lists by suffix.
    if let Some(odd) = files
        .iter()
        .find(|f| !f.to_string_lossy().ends_with(&extension))
    {
        return Err(DataError::Source(format!(
            "{path}: mixed file types ({} and {}); point the source at one kind of file",
            files[0].display(),
            odd.display()
        )));
    }
    let mut partition_cols = Vec::new();
    if let Some(root) = &root {
        for f in &files {
            let rel = f.strip_prefix(root).unwrap_or(f);
            let cols: Vec<String> = rel
                .parent()
                .into_iter()
                .flat_map(|p| p.components())
                .filter_map(|c| {
                    c.as_os_str()
                        .to_str()?
                        .split_once('=')
                        .map(|(k, _)| k.to_string())
                })
                .collect();
            if partition_cols.is_empty() {
                partition_cols = cols;
            } else if partition_cols != cols {
                return Err(DataError::Source(format!(
                    "{path}: partition directories differ ({} vs {}); every file must sit under the same key=value levels",
                    partition_cols.join("/"),
                    cols.join("/")
                )));
            }
        }
    }
    let url = match (&root, is_glob) {
        (Some(r), _) => format!("{}/", r.to_string_lossy().trim_end_matches('/')),
        (None, true) => full_str,
        (None, false) => first,
    };
    Ok(Resolved {
        display: path.to_string(),
        files,
        url,
        format,
        compression,
        extension,
        partition_cols,
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name.starts_with('.') || name.starts_with('_') {
            continue; // _SUCCESS, .crc and other writer droppings
        }
        // file_type() does not follow symlinks: a linked directory is not descended (no loops).
        if entry.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Build the listing options for a resolved source.
fn listing_options(ctx: &SessionContext, r: &Resolved, csv: &CsvOptions) -> ListingOptions {
    let parts: Vec<(String, DataType)> = r
        .partition_cols
        .iter()
        .map(|c| (c.clone(), DataType::Utf8))
        .collect();
    let config = ctx.copied_config();
    let table = ctx.copied_table_options();
    match r.format {
        Format::Csv => {
            let tsv = r.extension.to_lowercase().starts_with(".tsv");
            let mut o = CsvReadOptions::new()
                .has_header(csv.header.unwrap_or(true))
                .delimiter(csv.delimiter.unwrap_or(if tsv { b'\t' } else { b',' }))
                .quote(csv.quote.unwrap_or(b'"'))
                .file_extension(&r.extension)
                .file_compression_type(r.compression)
                .table_partition_cols(parts)
                .schema_infer_max_records(10_000)
                .newlines_in_values(csv.newlines_in_values.unwrap_or(false));
            if let Some(e) = csv.escape {
                o = o.escape(e);
            }
            if let Some(n) = &csv.null_value {
                o = o.null_regex(Some(format!("^{}$", regex::escape(n))));
            }
            o.to_listing_options(&config, table)
        }
        Format::Parquet => ParquetReadOptions::new()
            .file_extension(&r.extension)
            .table_partition_cols(parts)
            .to_listing_options(&config, table),
        Format::Json => JsonReadOptions::default()
            .file_extension(&r.extension)
            .file_compression_type(r.compression)
            .table_partition_cols(parts)
            .to_listing_options(&config, table),
        Format::Arrow => {
            let mut o = ArrowReadOptions::default().table_partition_cols(parts);
            o.file_extension = &r.extension;
            o.to_listing_options(&config, table)
        }
    }
}

/// A source opened for checking: a counting provider over the files.
#[derive(Debug, Clone)]
pub struct OpenSource {
    /// The resolved location.
    pub resolved: Resolved,
    /// The provider (schema as read: pinned CSV columns are text here).
    pub provider: Arc<CountingTable>,
    /// Columns pinned by `type:` checks: (column, SQL type).
    pub pins: Vec<(String, &'static str)>,
    /// Pinned columns are read as text and converted in a view (slower, but a value that does
    /// not convert is counted instead of stopping the scan).
    pub text_pins: bool,
}

impl OpenSource {
    /// The schema as the checks see it (pinned columns with their pinned type).
    pub fn raw_schema(&self) -> SchemaRef {
        self.provider.schema()
    }
}

/// Open a source: list files, infer the schema. CSV columns in `pins` get their pinned type
/// whatever inference says: read as that type directly, or (`text_pins`) read as text and
/// converted later so that bad values can be counted.
pub async fn open(
    ctx: &SessionContext,
    r: Resolved,
    csv: &CsvOptions,
    pins: Vec<(String, &'static str)>,
    text_pins: bool,
) -> Result<OpenSource> {
    let options = listing_options(ctx, &r, csv);
    let fail = |e: datafusion::error::DataFusionError| {
        DataError::Source(format!(
            "{}: cannot read: {}",
            r.display,
            engine_message(&e)
        ))
    };
    // A directory is listed by DataFusion (hive partitions); files and globs are given one by one.
    let urls: Vec<ListingTableUrl> = if r.url.ends_with('/') {
        vec![ListingTableUrl::parse(&r.url).map_err(fail)?]
    } else {
        r.files
            .iter()
            .map(|f| ListingTableUrl::parse(f.to_string_lossy()))
            .collect::<datafusion::error::Result<_>>()
            .map_err(fail)?
    };
    let mut inferred: Option<SchemaRef> = None;
    for url in &urls {
        let schema = options.infer_schema(&ctx.state(), url).await.map_err(|e| {
            DataError::Source(format!(
                "{}: cannot read: {}",
                url.as_str().trim_start_matches("file://"),
                engine_message(&e)
            ))
        })?;
        inferred = Some(match inferred {
            None => schema,
            Some(prev) => Arc::new(
                Schema::try_merge([prev.as_ref().clone(), schema.as_ref().clone()]).map_err(
                    |e| {
                        DataError::Source(format!(
                            "{}: the files disagree on their columns: {e}",
                            r.display
                        ))
                    },
                )?,
            ),
        });
    }
    let inferred = inferred.ok_or_else(|| DataError::Source(format!("{}: no files", r.display)))?;
    let pins: Vec<(String, &'static str)> = if r.format == Format::Csv {
        pins.into_iter()
            .filter(|(c, _)| inferred.field_with_name(c).is_ok())
            .collect()
    } else {
        Vec::new()
    };
    let schema: SchemaRef = if pins.is_empty() {
        inferred
    } else {
        // The file schema (DataFusion appends the partition columns itself).
        let fields: Vec<Field> = inferred
            .fields()
            .iter()
            .map(|f| match pins.iter().find(|(c, _)| c == f.name()) {
                Some(_) if text_pins => Field::new(f.name(), DataType::Utf8, true),
                Some((_, sql_type)) => {
                    let keep = crate::sql::type_rule_of_sql(sql_type)
                        .is_some_and(|rule| rule(f.data_type()));
                    if keep {
                        f.as_ref().clone()
                    } else {
                        Field::new(f.name(), crate::sql::arrow_type(sql_type), true)
                    }
                }
                None => f.as_ref().clone(),
            })
            .collect();
        Arc::new(Schema::new(fields))
    };
    let config = ListingTableConfig::new_with_multi_paths(urls)
        .with_listing_options(options)
        .with_schema(schema);
    let table = ListingTable::try_new(config)
        .map_err(|e| DataError::Source(format!("{}: {}", r.display, engine_message(&e))))?;
    Ok(OpenSource {
        resolved: r,
        provider: Arc::new(CountingTable::new(Arc::new(table))),
        pins,
        text_pins,
    })
}

/// A table provider that counts how often it is scanned: the proof that a suite costs one scan.
#[derive(Debug)]
pub struct CountingTable {
    inner: Arc<dyn TableProvider>,
    scans: AtomicUsize,
}

impl CountingTable {
    /// Wrap a provider.
    pub fn new(inner: Arc<dyn TableProvider>) -> Self {
        CountingTable {
            inner,
            scans: AtomicUsize::new(0),
        }
    }

    /// The wrapped provider.
    pub fn inner(&self) -> Arc<dyn TableProvider> {
        self.inner.clone()
    }

    /// Scans started so far.
    pub fn scans(&self) -> usize {
        self.scans.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl TableProvider for CountingTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        self.scans.fetch_add(1, Ordering::SeqCst);
        let plan = self.inner.scan(state, projection, filters, limit).await?;
        Ok(if crate::progress::enabled() {
            crate::progress::CountingExec::wrap(plan)
        } else {
            plan
        })
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }
}
