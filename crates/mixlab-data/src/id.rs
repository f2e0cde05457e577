//! Which datasets exist and what each is: its name, folders and files, task and sample shape. Kept below
//! both the loaders (`dataset`) and the search for a dataset's files (`location`), which both name them.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::fsdd;

/// Default Exchange-Rate input window (days), C-Mixup's `window = 24*7`.
pub const DEFAULT_WINDOW: usize = 168;

/// The datasets mixlab can load.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetId {
    /// MNIST handwritten digits, 60000 + 10000 grey 28×28 (IDX).
    Mnist,
    /// Fashion-MNIST, 60000 + 10000 grey 28×28 (IDX).
    FashionMnist,
    /// CIFAR-10 colour 32×32, binary batches.
    Cifar10,
    /// CIFAR-100 colour 32×32 (binary version), the 100 fine labels.
    Cifar100,
    /// CIFAR-100 with its 20 coarse labels (superclasses).
    Cifar100Coarse,
    /// sklearn digits, 1797 grey 8×8 (embedded).
    Digits,
    /// Free Spoken Digit Dataset, 3000 clips at 8 kHz.
    Fsdd,
    /// Airfoil Self-Noise regression, 1503 × (5 → 1) (embedded).
    Airfoil,
    /// LSTNet exchange rates, 7588 days × 8 series, windowed forecasting.
    ExchangeRate,
    /// UCI Communities and Crime regression.
    CommunitiesCrime,
    /// UCI SkillCraft1 regression.
    Skillcraft,
}

/// What a dataset's targets are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Integer labels in `0..classes` ([`Split::labels`]).
    Classification {
        /// Number of classes.
        classes: usize,
    },
    /// Real targets, `outputs` per sample ([`Split::targets`]).
    Regression {
        /// Target values per sample.
        outputs: usize,
    },
}

impl Task {
    /// Width of the model output: classes or regression outputs.
    pub fn output_dim(self) -> usize {
        match self {
            Task::Classification { classes } => classes,
            Task::Regression { outputs } => outputs,
        }
    }
}

impl DatasetId {
    /// Every dataset, in display order.
    pub const ALL: [DatasetId; 11] = [
        DatasetId::Mnist,
        DatasetId::FashionMnist,
        DatasetId::Cifar10,
        DatasetId::Cifar100,
        DatasetId::Cifar100Coarse,
        DatasetId::Digits,
        DatasetId::Fsdd,
        DatasetId::Airfoil,
        DatasetId::ExchangeRate,
        DatasetId::CommunitiesCrime,
        DatasetId::Skillcraft,
    ];

    /// Kebab-case name (CLI, configs, records).
    pub fn name(self) -> &'static str {
        match self {
            DatasetId::Mnist => "mnist",
            DatasetId::FashionMnist => "fashion-mnist",
            DatasetId::Cifar10 => "cifar10",
            DatasetId::Cifar100 => "cifar100",
            DatasetId::Cifar100Coarse => "cifar100-coarse",
            DatasetId::Digits => "digits",
            DatasetId::Fsdd => "fsdd",
            DatasetId::Airfoil => "airfoil",
            DatasetId::ExchangeRate => "exchange-rate",
            DatasetId::CommunitiesCrime => "communities-crime",
            DatasetId::Skillcraft => "skillcraft",
        }
    }

    /// The usual folder inside a data directory (the first of [`DatasetId::folders`]).
    pub fn folder(self) -> &'static str {
        self.folders()[0]
    }

    /// Candidate folders inside a data directory, tried in order; `.` is the directory itself (a flat copy of
    /// the repository's `data/`).
    pub fn folders(self) -> &'static [&'static str] {
        match self {
            DatasetId::Mnist => &["mnist", "MNIST/raw"],
            DatasetId::FashionMnist => &["fashion-mnist", "FashionMNIST/raw"],
            DatasetId::Cifar10 => &["cifar10", "cifar-10-batches-bin"],
            DatasetId::Cifar100 | DatasetId::Cifar100Coarse => &["cifar100", "cifar-100-binary"],
            DatasetId::Digits => &["sklearn-bundled", "digits", "."],
            DatasetId::Fsdd => &["fsdd", "free-spoken-digit-dataset"],
            DatasetId::Airfoil => &["airfoil", "."],
            DatasetId::ExchangeRate => &["exchange-rate", "exchange_rate"],
            DatasetId::CommunitiesCrime => &["communities-crime"],
            DatasetId::Skillcraft => &["skillcraft"],
        }
    }

    /// The single data file of a tabular dataset (alternatives in order); empty for the others.
    pub fn file_names(self) -> &'static [&'static str] {
        match self {
            DatasetId::Digits => &["digits.csv.gz", "digits.csv"],
            DatasetId::Airfoil => &["airfoil_self_noise.dat"],
            DatasetId::ExchangeRate => &["exchange_rate.txt.gz", "exchange_rate.txt"],
            DatasetId::CommunitiesCrime => &["communities.data"],
            DatasetId::Skillcraft => &["SkillCraft1_Dataset.csv"],
            _ => &[],
        }
    }

    /// The files a dataset folder must hold, in words (for `mixlab datasets`).
    pub fn expected_files(self) -> &'static str {
        match self {
            DatasetId::Mnist | DatasetId::FashionMnist => {
                "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]"
            }
            DatasetId::Cifar10 => {
                "data_batch_1..5.bin (at least one) and test_batch.bin or test_batch_first1000.bin, optionally under cifar-10-batches-bin/"
            }
            DatasetId::Cifar100 | DatasetId::Cifar100Coarse => {
                "train.bin and test.bin, optionally under cifar-100-binary/"
            }
            DatasetId::Digits => "digits.csv.gz",
            DatasetId::Fsdd => "recordings/{digit}_{speaker}_{take}.wav",
            DatasetId::Airfoil => "airfoil_self_noise.dat",
            DatasetId::ExchangeRate => "exchange_rate.txt.gz",
            DatasetId::CommunitiesCrime => "communities.data",
            DatasetId::Skillcraft => "SkillCraft1_Dataset.csv",
        }
    }

    /// Classification with K classes, or regression with its number of outputs.
    pub fn task(self) -> Task {
        match self {
            DatasetId::Mnist
            | DatasetId::FashionMnist
            | DatasetId::Cifar10
            | DatasetId::Digits
            | DatasetId::Fsdd => Task::Classification { classes: 10 },
            DatasetId::Cifar100 => Task::Classification { classes: 100 },
            DatasetId::Cifar100Coarse => Task::Classification { classes: 20 },
            DatasetId::ExchangeRate => Task::Regression { outputs: 8 },
            DatasetId::Airfoil | DatasetId::CommunitiesCrime | DatasetId::Skillcraft => {
                Task::Regression { outputs: 1 }
            }
        }
    }

    /// Shape of one sample with default [`LoadOptions`] on the full files: `[C, H, W]` for images,
    /// `[1, L]` for audio, `[series, window]` for Exchange-Rate, `[features]` for tables.
    /// A loaded [`Dataset::sample_shape`] is authoritative (it follows options and the actual file).
    pub fn sample_shape(self) -> Vec<usize> {
        match self {
            DatasetId::Mnist | DatasetId::FashionMnist => vec![1, 28, 28],
            DatasetId::Cifar10 | DatasetId::Cifar100 | DatasetId::Cifar100Coarse => vec![3, 32, 32],
            DatasetId::Digits => vec![1, 8, 8],
            DatasetId::Fsdd => vec![1, fsdd::DEFAULT_LEN],
            DatasetId::Airfoil => vec![5],
            DatasetId::ExchangeRate => vec![8, DEFAULT_WINDOW],
            DatasetId::CommunitiesCrime => vec![99],
            DatasetId::Skillcraft => vec![17],
        }
    }
}

impl fmt::Display for DatasetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DatasetId {
    type Err = Error;

    fn from_str(s: &str) -> Result<DatasetId> {
        DatasetId::ALL
            .iter()
            .copied()
            .find(|d| d.name() == s)
            .ok_or_else(|| Error::UnknownDataset {
                name: s.to_string(),
                known: DatasetId::ALL.map(DatasetId::name).join(", "),
            })
    }
}
