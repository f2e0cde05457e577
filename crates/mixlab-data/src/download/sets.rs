//! The catalogue of downloadable sets: each set's files, official addresses, sizes and published sha256 sums,
//! and where each sum comes from.

use super::*;
/// The downloadable sets: every dataset the loaders read from a data directory (CIFAR-100's fine and coarse
/// labellings share one set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Set {
    /// MNIST, four IDX .gz files.
    Mnist,
    /// Fashion-MNIST, four IDX .gz files.
    FashionMnist,
    /// CIFAR-10 binary version (tar.gz, unpacked to `cifar10/cifar-10-batches-bin/`).
    Cifar10,
    /// CIFAR-100 binary version (tar.gz, unpacked to `cifar100/cifar-100-binary/`).
    Cifar100,
    /// Free Spoken Digit Dataset (GitHub zip of a pinned commit; `recordings/` is unpacked).
    Fsdd,
    /// UCI Airfoil Self-Noise (also embedded in the binary).
    Airfoil,
    /// LSTNet exchange rates.
    ExchangeRate,
    /// UCI Communities and Crime.
    CommunitiesCrime,
    /// UCI SkillCraft1.
    Skillcraft,
}

impl Set {
    /// Every set, in display order.
    pub const ALL: [Set; 9] = [
        Set::Mnist,
        Set::FashionMnist,
        Set::Cifar10,
        Set::Cifar100,
        Set::Fsdd,
        Set::Airfoil,
        Set::ExchangeRate,
        Set::CommunitiesCrime,
        Set::Skillcraft,
    ];

    /// Kebab-case name (CLI).
    pub fn name(self) -> &'static str {
        self.dataset().name()
    }

    /// Names of datasets that are read from another dataset's set, with that set: `cifar100-coarse`
    /// (CIFAR-100's coarse labelling lives in the same files as the fine one).
    pub const ALIASES: [(&'static str, Set); 1] = [("cifar100-coarse", Set::Cifar100)];

    /// The set a dataset name is downloaded with: a set's own name or an alias.
    pub fn for_name(name: &str) -> Option<Set> {
        Set::ALL.into_iter().find(|s| s.name() == name).or_else(|| {
            Set::ALIASES
                .iter()
                .find(|(alias, _)| *alias == name)
                .map(|(_, s)| *s)
        })
    }

    /// The dataset a loader reads from this set (CIFAR-100: the fine labelling; `cifar100-coarse` reads the
    /// same files).
    pub fn dataset(self) -> DatasetId {
        match self {
            Set::Mnist => DatasetId::Mnist,
            Set::FashionMnist => DatasetId::FashionMnist,
            Set::Cifar10 => DatasetId::Cifar10,
            Set::Cifar100 => DatasetId::Cifar100,
            Set::Fsdd => DatasetId::Fsdd,
            Set::Airfoil => DatasetId::Airfoil,
            Set::ExchangeRate => DatasetId::ExchangeRate,
            Set::CommunitiesCrime => DatasetId::CommunitiesCrime,
            Set::Skillcraft => DatasetId::Skillcraft,
        }
    }

    /// The folder inside the data directory: the loader's usual folder ([`DatasetId::folder`]).
    pub fn folder(self) -> &'static str {
        self.dataset().folder()
    }

    /// The files of this set with their official address, size and sha256.
    pub fn remotes(self) -> Vec<Remote> {
        let f = self.folder();
        match self {
            // Sums: tensorflow/datasets, tensorflow_datasets/url_checksums/mnist.txt (commit 31f1255e). They are
            // the sums of the files on Google's CVDF mirror, which TFDS downloads; yann.lecun.com, the original
            // host, often refuses automated downloads. The sizes match the original files (e.g. 9912422 bytes
            // for train-images), and shared/data/mnist/README.md checks the decompressed bytes against the
            // md5/sha256 published for the originals.
            Set::Mnist => {
                const BASE: &str = "https://storage.googleapis.com/cvdf-datasets/mnist/";
                [
                    (
                        "train-images-idx3-ubyte.gz",
                        9_912_422,
                        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                    ),
                    (
                        "train-labels-idx1-ubyte.gz",
                        28_881,
                        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                    ),
                    (
                        "t10k-images-idx3-ubyte.gz",
                        1_648_877,
                        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                    ),
                    (
                        "t10k-labels-idx1-ubyte.gz",
                        4_542,
                        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                    ),
                ]
                .map(|(file, size, sum)| Remote::file(format!("{BASE}{file}"), f, file, size, sum))
                .to_vec()
            }
            // Official address from the zalandoresearch/fashion-mnist README. Sums: tensorflow/datasets,
            // tensorflow_datasets/url_checksums/fashion_mnist.txt (commit 333639b3); the same four sums are in
            // shared/data/fashion-mnist/README.md for copies whose md5 equal the ones the upstream README
            // publishes (upstream itself publishes md5 only).
            Set::FashionMnist => {
                const BASE: &str = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";
                [
                    (
                        "train-images-idx3-ubyte.gz",
                        26_421_880,
                        "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                    ),
                    (
                        "train-labels-idx1-ubyte.gz",
                        29_515,
                        "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                    ),
                    (
                        "t10k-images-idx3-ubyte.gz",
                        4_422_102,
                        "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                    ),
                    (
                        "t10k-labels-idx1-ubyte.gz",
                        5_148,
                        "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
                    ),
                ]
                .map(|(file, size, sum)| Remote::file(format!("{BASE}{file}"), f, file, size, sum))
                .to_vec()
            }
            // Sum: tensorflow/datasets, tensorflow_datasets/url_checksums/cifar10.txt (commit 333639b3). The
            // CIFAR page itself publishes md5 only (c32a1d4ab5d03f1284b67883e8d87530).
            Set::Cifar10 => vec![
                Remote::file(
                    "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                    f,
                    "cifar-10-binary.tar.gz",
                    170_052_171,
                    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd",
                )
                .unpacked(Unpack::all(ArchiveKind::TarGz)),
            ],
            // Sum: tensorflow/datasets, tensorflow_datasets/url_checksums/cifar100.txt (commit 333639b3). The
            // CIFAR page publishes md5 only (03b5dce01913d631647c71ecec9e9cb8).
            Set::Cifar100 => vec![
                Remote::file(
                    "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
                    f,
                    "cifar-100-binary.tar.gz",
                    168_513_733,
                    "58a81ae192c23a4be8b1804d68e518ed807d710a4eb253b1f2a199162a40d8ec",
                )
                .unpacked(Unpack::all(ArchiveKind::TarGz)),
            ],
            // FSDD has no release files and publishes no sums; GitHub builds archives on request and does not
            // promise byte-stable zips, so the zip itself is not checked. Instead the unpacked `recordings/` is:
            // the expected value is the sha256 of the `sha256sum` listing of all 3000 clips at this commit,
            // i.e. of shared/data/fsdd/SHA256SUMS as given in shared/data/fsdd/README.md (computed by the
            // project from a copy of this commit; not published upstream).
            Set::Fsdd => vec![Remote {
                url: format!(
                    "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/{FSDD_COMMIT}.zip"
                ),
                mirror_path: format!("{f}/free-spoken-digit-dataset-{FSDD_COMMIT}.zip"),
                file: format!("free-spoken-digit-dataset-{FSDD_COMMIT}.zip"),
                size: None,
                sha256: None,
                unpack: Some(Unpack {
                    kind: ArchiveKind::Zip,
                    strip: 1,
                    keep: Some("recordings".into()),
                    tree: Some(TreeSum {
                        dir: "recordings".into(),
                        sha256: "04e1baae96c6a26e39c623f2b01d0182ddae627ba0ac02a3cdc17ba2af99fd9b"
                            .into(),
                    }),
                }),
            }],
            // Official UCI address. Sum: BJMCox/LinearTrees.jl, bench/continuous.jl (commit 42c5e8ea), which
            // downloads this URL and checks it; it equals the sha256 of shared/data/airfoil's copy with CRLF line
            // ends (UCI's file uses CRLF), and the loader accepts CRLF.
            Set::Airfoil => vec![Remote::file(
                "https://archive.ics.uci.edu/ml/machine-learning-databases/00291/airfoil_self_noise.dat",
                f,
                "airfoil_self_noise.dat",
                59_984,
                "74c75fd71783f1e6b71f8a622b993dc592897a97cd689c5090a07147a1b097b3",
            )],
            // The LSTNet authors' repository (the dataset's origin) at a pinned commit. No published sum exists;
            // the sum is the one in shared/data/exchange-rate/README.md for this file, unchanged.
            Set::ExchangeRate => vec![Remote::file(
                "https://raw.githubusercontent.com/laiguokun/multivariate-time-series-data/7f402f185cc2435b5e66aed13a3b560ed142e023/exchange_rate/exchange_rate.txt.gz",
                f,
                "exchange_rate.txt.gz",
                177_142,
                "6a4fbb561dcdee43f071a83badbeec9223a335552278348656738b556f1c2e9d",
            )],
            // UCI publishes no sums and the bytes of its copy could not be checked from here, so the files come
            // from a pinned GitHub copy (HanaSturlan/Communities-and-Crime-Data-Set) whose sums are in
            // shared/data/communities-crime/README.md. UCI's address:
            // https://archive.ics.uci.edu/ml/machine-learning-databases/communities/communities.data
            Set::CommunitiesCrime => {
                const BASE: &str = "https://raw.githubusercontent.com/HanaSturlan/Communities-and-Crime-Data-Set/109972458a21f35e4973bd559cde88ca750a8d85/";
                vec![
                    Remote::file(
                        format!("{BASE}communities.data"),
                        f,
                        "communities.data",
                        1_102_815,
                        "09e0b5c07eae24c1efab19b2edee05e160e7f5743b6f31e31eec3d73624da2ea",
                    ),
                    Remote::file(
                        format!("{BASE}communities.names"),
                        f,
                        "communities.names",
                        27_173,
                        "d4c5560c798d2c723d4455cdea7c87be59a10327dee20ef175a17eaea1445827",
                    ),
                ]
            }
            // UCI publishes no sums; shared/data/skillcraft/README.md says the copy it checked is probably a
            // re-save of UCI's file, so UCI's bytes (…/00272/SkillCraft1_Dataset.csv) would not match. The file
            // comes from that pinned GitHub copy (jinyoung-plus/Python-data-analysis) with the README's sum.
            Set::Skillcraft => vec![Remote::file(
                "https://raw.githubusercontent.com/jinyoung-plus/Python-data-analysis/820b7e446050240266a3b3dc591e300dec452ca5/SkillCraft1_Dataset.csv",
                f,
                "SkillCraft1_Dataset.csv",
                445_221,
                "f622d45649c69f0a493d6b45ea1a90aa2de1b5a7a29f724f34fe877ca5c93b11",
            )],
        }
    }
}

/// The FSDD commit that `shared/data/fsdd` was copied from.
const FSDD_COMMIT: &str = "26eb9aaf76e81b692f806f9140c2d2777410d7a1";

impl fmt::Display for Set {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that width and alignment (`{:<18}` in the CLI's progress lines) apply.
        f.pad(self.name())
    }
}

impl FromStr for Set {
    type Err = DownloadError;

    fn from_str(s: &str) -> DownloadResult<Set> {
        Set::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| DownloadError::UnknownSet {
                name: s.to_string(),
                known: Set::ALL.map(Set::name).join(", "),
            })
    }
}
