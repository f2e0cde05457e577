//! Input-level mixing methods: one module per method, each a validated config plus a pure `draw`.
//!
//! A draw describes how one sample (or one group of samples sharing a draw: the whole batch, or a pair)
//! is mixed with its partner. [`crate::mixer`] decides partners, groups, probabilities and method choice.

pub mod adamixup;
pub mod adautomix;
pub mod alignmix;
pub mod attentivemix;
pub mod automix;
pub mod beatsync;
pub mod clem;
pub mod crossmodal;
pub mod cutmix;
pub mod dualmix;
pub mod embedding;
pub mod fmix;
pub mod gridmix;
pub mod guidedmix;
pub mod maskmix;
pub mod mixedae;
pub mod mixmatch;
pub mod mixpro;
pub mod mixup;
pub mod patchsource;
pub mod proxydet;
pub mod puzzlemix;
pub mod representation;
pub mod resizemix;
pub mod saliencymix;
pub mod smmix;
pub mod smoothmix;
pub mod snapmix;
pub mod tlalign;
pub mod tokenmix;
pub mod transmix;

use crate::error::{Error, Result};
use crate::shape::SampleShape;
use crate::weight::SampleWeight;
use rand::Rng;
use serde::{Deserialize, Serialize};

pub use adamixup::AdamixupConfig;
pub use adautomix::AdautomixConfig;
pub use alignmix::AlignmixConfig;
pub use attentivemix::AttentivemixConfig;
pub use automix::AutomixConfig;
pub use beatsync::{Align, BeatsyncConfig};
pub use clem::{AlphaSchedule, ClemConfig, Predicted, QuantileCode};
pub use crossmodal::{Cm3Config, M3colConfig};
pub use cutmix::CutmixConfig;
pub use dualmix::DualmixConfig;
pub use embedding::{
    EmbeddingTask, GeomixConfig, MetricLoss, MetrixConfig, MimixConfig, MixLevel, RegMix,
    SupremixConfig,
};
pub use fmix::FmixConfig;
pub use gridmix::GridmixConfig;
pub use guidedmix::GuidedmixConfig;
pub use maskmix::MaskmixConfig;
pub use mixedae::MixedaeConfig;
pub use mixmatch::{MixmatchConfig, UnlabelledLoss};
pub use mixpro::MixproConfig;
pub use mixup::MixupConfig;
pub use patchsource::{PatchTargets, PatchsourceConfig};
pub use proxydet::{CmmLoss, ProxydetConfig};
pub use puzzlemix::PuzzlemixConfig;
pub use representation::{
    CmixupConfig, DecouplemixConfig, ManifoldmixConfig, RankLoss, RankmixupConfig,
};
pub use resizemix::ResizemixConfig;
pub use saliencymix::SaliencymixConfig;
pub use smmix::SmmixConfig;
pub use smoothmix::SmoothmixConfig;
pub use snapmix::SnapmixConfig;
pub use tlalign::TlalignConfig;
pub use tokenmix::TokenmixConfig;
pub use transmix::TransmixConfig;

/// What a method may look at when drawing.
#[derive(Clone, Copy, Debug)]
pub struct DrawCtx<'a> {
    /// Shape of one sample.
    pub shape: &'a SampleShape,
    /// The partner's (source image's) data, C×spatial, when the caller has it (needed by saliencymix).
    pub partner_data: Option<&'a [f32]>,
}

/// One draw: the input weight and the realised label weight of the sample's own label.
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    /// How the input is formed from the sample and its partner.
    pub weight: SampleWeight,
    /// Weight of the sample's own label in the soft target, in [0, 1] (the partner's label gets the rest);
    /// the realised input share for box and mask methods, λ for blends.
    pub lam_label: f32,
}

/// The contract every method module implements.
pub trait MixMethod {
    /// The method's name on the command line and in plans.
    const NAME: &'static str;
    /// Checks the hyper-parameters and that the method supports the layout.
    fn validate(&self, shape: &SampleShape) -> Result<()>;
    /// Draws one mix. Must only be called after `validate` succeeded for `ctx.shape`.
    fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw>;
}

/// The closed set of input-level methods, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Identity (the baseline).
    None,
    /// MixUp: λ·x_i + (1 − λ)·x_j, λ ~ Beta(α, α).
    Mixup,
    /// CutMix: a box of the partner pasted in; label weight = kept area.
    Cutmix,
    /// FMix: a binarised low-frequency Fourier mask (1-D/2-D/3-D).
    Fmix,
    /// ResizeMix: the whole partner resized and pasted at a random place.
    Resizemix,
    /// GridMix: a grid of holes filled from the partner.
    Gridmix,
    /// SmoothMix: a Gaussian soft mask around a random centre.
    Smoothmix,
    /// SaliencyMix: a CutMix box centred on the partner's saliency peak.
    Saliencymix,
    /// MaskMix (MixPro): a random subset of patches from the partner.
    Maskmix,
    /// Manifold Mixup: mixup of hidden features at a point drawn from `layers` (training only).
    Manifoldmix,
    /// C-Mixup (regression): partners drawn by target similarity over the training set (training only).
    CMixup,
    /// DecoupleMix: a base input-level method plus the decoupled mixup loss (training only).
    Decouplemix,
    /// RankMixup: raw-vs-mixed confidence ranking losses (MRL, M-NDCG) (training only).
    Rankmixup,
    /// Metrix: mixup for deep metric learning, judged by retrieval on held-out classes (training only).
    Metrix,
    /// MI-Mix: DNABERT-S's manifold instance mixup of hidden states, contrastive (training only).
    Mimix,
    /// SupReMix: contrastive regression with mixed hard positives and negatives, then a linear head
    /// (training only).
    Supremix,
    /// PuzzleMix: block masks by graph cut over input-gradient saliency, with block transport (training
    /// only: the saliency comes from the model).
    Puzzlemix,
    /// GuidedMixup: greedy saliency-distant pairs mixed pixel-wise by their saliency ratio (training
    /// only: pairs and masks come from the whole batch's saliency).
    Guidedmix,
    /// SnapMix: an asymmetric CutMix whose two label weights are class-activation shares (training only:
    /// the CAMs come from the model).
    Snapmix,
    /// AlignMix: last feature maps mixed after aligning their positions by optimal transport.
    Alignmix,
    /// AttentiveMix: a teacher's most attended grid cells kept, the rest from the partner (training only:
    /// the attention comes from a model).
    Attentivemix,
    /// TransMix: CutMix boxes whose labels are re-weighted by a vision transformer's class-token attention
    /// (training only: the attention comes from the model's forward).
    Transmix,
    /// MixPro: MaskMix patches with progressive attention labelling (training only: the attention and
    /// the prediction come from the model's forward).
    Mixpro,
    /// TL-Align: CutMix on the token grid with token labels carried through every block's attention to
    /// the class token (training only: the attention comes from the model's forward).
    Tlalign,
    /// TokenMix: block masks on the token grid with label weights from a teacher's class maps (training
    /// only: the maps come from a teacher model).
    Tokenmix,
    /// SMMix: the least attended token window replaced by the partner's most attended one, with a token
    /// head and a consistency loss (training only: the attention comes from the model).
    Smmix,
    /// AdaMixUp: λ from a policy network trained with an intrusion discriminator (training only: the
    /// policy and the discriminator are trained with the model).
    Adamixup,
    /// AutoMix: pixel masks from a MixBlock trained through a momentum encoder (training only: the
    /// MixBlock and the encoder are trained or moved with the model).
    Automix,
    /// SAMix: AutoMix with a λ-modulated MixBlock, a non-linear value net and a variance-rewarding mask
    /// loss (training only).
    Samix,
    /// AdAutoMix: an adversarial three-source mask generator on a momentum encoder (training only).
    Adautomix,
    /// Beat- or onset-synchronous waveform mixup: the partner moved onto the sample's first downbeat or
    /// onset before the blend (training only: pairing and alignment look at the batch's audio).
    Beatsync,
    /// MixMatch: guessed labels for unlabelled samples, labelled and unlabelled mixed together (training
    /// only: semi-supervised, the guesses come from the model).
    Mixmatch,
    /// Geodesic multi-modal mixup: slerped hard negatives in a CLIP-style loss between two datasets
    /// (training only).
    Geomix,
    /// M3CoL: each modality's embeddings mixed, found in the other with soft targets, then SoftCLIP
    /// (training only, two-tower runs).
    M3col,
    /// CM³: alignment and uniformity calibrated by spherically fused features (training only, two-tower
    /// runs).
    Cm3,
    /// DualMix: EnMix and AdpMix beside experience replay (training only, continual runs).
    Dualmix,
    /// ProxyDet's class-wise multi-modal mixup on a cosine classifier, judged by retrieval on held-out
    /// classes (training only).
    Proxydet,
    /// Patch-source prediction: per-patch classes of a mix's sources, a dense task (training only).
    Patchsource,
    /// CLEM: regression as digit-sequence generation, teacher forcing mixed with the decoder's own
    /// predictions on a curriculum (training only).
    Clem,
    /// MixedAE: MAE pre-training of a ViT on patch-mixed groups, judged by a linear probe (training only).
    Mixedae,
}

impl Method {
    /// Every method, in display order.
    pub const ALL: [Method; 40] = [
        Method::None,
        Method::Mixup,
        Method::Cutmix,
        Method::Fmix,
        Method::Resizemix,
        Method::Gridmix,
        Method::Smoothmix,
        Method::Saliencymix,
        Method::Maskmix,
        Method::Manifoldmix,
        Method::CMixup,
        Method::Decouplemix,
        Method::Rankmixup,
        Method::Metrix,
        Method::Mimix,
        Method::Supremix,
        Method::Geomix,
        Method::Puzzlemix,
        Method::Guidedmix,
        Method::Snapmix,
        Method::Alignmix,
        Method::Attentivemix,
        Method::Transmix,
        Method::Mixpro,
        Method::Tlalign,
        Method::Tokenmix,
        Method::Smmix,
        Method::Adamixup,
        Method::Automix,
        Method::Samix,
        Method::Adautomix,
        Method::Beatsync,
        Method::Mixmatch,
        Method::M3col,
        Method::Cm3,
        Method::Dualmix,
        Method::Proxydet,
        Method::Patchsource,
        Method::Clem,
        Method::Mixedae,
    ];

    /// The kebab-case name.
    pub fn name(self) -> &'static str {
        match self {
            Method::None => "none",
            Method::Mixup => mixup::MixupConfig::NAME,
            Method::Cutmix => cutmix::CutmixConfig::NAME,
            Method::Fmix => fmix::FmixConfig::NAME,
            Method::Resizemix => resizemix::ResizemixConfig::NAME,
            Method::Gridmix => gridmix::GridmixConfig::NAME,
            Method::Smoothmix => smoothmix::SmoothmixConfig::NAME,
            Method::Saliencymix => saliencymix::SaliencymixConfig::NAME,
            Method::Maskmix => maskmix::MaskmixConfig::NAME,
            Method::Manifoldmix => ManifoldmixConfig::NAME,
            Method::CMixup => CmixupConfig::NAME,
            Method::Decouplemix => DecouplemixConfig::NAME,
            Method::Rankmixup => RankmixupConfig::NAME,
            Method::Puzzlemix => PuzzlemixConfig::NAME,
            Method::Guidedmix => GuidedmixConfig::NAME,
            Method::Snapmix => SnapmixConfig::NAME,
            Method::Alignmix => AlignmixConfig::NAME,
            Method::Attentivemix => AttentivemixConfig::NAME,
            Method::Transmix => TransmixConfig::NAME,
            Method::Mixpro => MixproConfig::NAME,
            Method::Tlalign => TlalignConfig::NAME,
            Method::Tokenmix => TokenmixConfig::NAME,
            Method::Smmix => SmmixConfig::NAME,
            Method::Adamixup => AdamixupConfig::NAME,
            Method::Automix => AutomixConfig::NAME,
            Method::Samix => "samix",
            Method::Adautomix => AdautomixConfig::NAME,
            Method::Beatsync => BeatsyncConfig::NAME,
            Method::Mixmatch => MixmatchConfig::NAME,
            Method::M3col => M3colConfig::NAME,
            Method::Cm3 => Cm3Config::NAME,
            Method::Dualmix => DualmixConfig::NAME,
            Method::Proxydet => ProxydetConfig::NAME,
            Method::Patchsource => PatchsourceConfig::NAME,
            Method::Clem => ClemConfig::NAME,
            Method::Mixedae => MixedaeConfig::NAME,
            Method::Metrix => MetrixConfig::NAME,
            Method::Mimix => MimixConfig::NAME,
            Method::Supremix => SupremixConfig::NAME,
            Method::Geomix => GeomixConfig::NAME,
        }
    }

    /// The method's config with its documented defaults.
    pub fn default_config(self) -> MethodConfig {
        match self {
            Method::None => MethodConfig::None,
            Method::Mixup => MethodConfig::Mixup(Default::default()),
            Method::Cutmix => MethodConfig::Cutmix(Default::default()),
            Method::Fmix => MethodConfig::Fmix(Default::default()),
            Method::Resizemix => MethodConfig::Resizemix(Default::default()),
            Method::Gridmix => MethodConfig::Gridmix(Default::default()),
            Method::Smoothmix => MethodConfig::Smoothmix(Default::default()),
            Method::Saliencymix => MethodConfig::Saliencymix(Default::default()),
            Method::Maskmix => MethodConfig::Maskmix(Default::default()),
            Method::Manifoldmix => MethodConfig::Manifoldmix(Default::default()),
            Method::CMixup => MethodConfig::CMixup(Default::default()),
            Method::Decouplemix => MethodConfig::Decouplemix(Default::default()),
            Method::Rankmixup => MethodConfig::Rankmixup(Default::default()),
            Method::Puzzlemix => MethodConfig::Puzzlemix(Default::default()),
            Method::Guidedmix => MethodConfig::Guidedmix(Default::default()),
            Method::Snapmix => MethodConfig::Snapmix(Default::default()),
            Method::Alignmix => MethodConfig::Alignmix(Default::default()),
            Method::Attentivemix => MethodConfig::Attentivemix(Default::default()),
            Method::Transmix => MethodConfig::Transmix(Default::default()),
            Method::Mixpro => MethodConfig::Mixpro(Default::default()),
            Method::Tlalign => MethodConfig::Tlalign(Default::default()),
            Method::Tokenmix => MethodConfig::Tokenmix(Default::default()),
            Method::Smmix => MethodConfig::Smmix(Default::default()),
            Method::Adamixup => MethodConfig::Adamixup(Default::default()),
            Method::Automix => MethodConfig::Automix(Default::default()),
            Method::Samix => MethodConfig::Samix(Default::default()),
            Method::Adautomix => MethodConfig::Adautomix(Default::default()),
            Method::Beatsync => MethodConfig::Beatsync(Default::default()),
            Method::Mixmatch => MethodConfig::Mixmatch(Default::default()),
            Method::M3col => MethodConfig::M3col(Default::default()),
            Method::Cm3 => MethodConfig::Cm3(Default::default()),
            Method::Dualmix => MethodConfig::Dualmix(Default::default()),
            Method::Proxydet => MethodConfig::Proxydet(Default::default()),
            Method::Patchsource => MethodConfig::Patchsource(Default::default()),
            Method::Clem => MethodConfig::Clem(Default::default()),
            Method::Mixedae => MethodConfig::Mixedae(Default::default()),
            Method::Metrix => MethodConfig::Metrix(Default::default()),
            Method::Mimix => MethodConfig::Mimix(Default::default()),
            Method::Supremix => MethodConfig::Supremix(Default::default()),
            Method::Geomix => MethodConfig::Geomix(Default::default()),
        }
    }

    /// Whether the method is fully described by its input-level plan (the rest need the trainer: a hidden
    /// mixing point, partners from the training set, or a loss of their own).
    pub fn is_input_level(self) -> bool {
        !matches!(
            self,
            Method::Manifoldmix
                | Method::CMixup
                | Method::Decouplemix
                | Method::Rankmixup
                | Method::Puzzlemix
                | Method::Guidedmix
                | Method::Snapmix
                | Method::Alignmix
                | Method::Attentivemix
                | Method::Transmix
                | Method::Mixpro
                | Method::Tlalign
                | Method::Tokenmix
                | Method::Smmix
                | Method::Adamixup
                | Method::Automix
                | Method::Samix
                | Method::Adautomix
                | Method::Beatsync
                | Method::Mixmatch
                | Method::M3col
                | Method::Cm3
                | Method::Dualmix
                | Method::Proxydet
                | Method::Patchsource
                | Method::Clem
                | Method::Mixedae
                | Method::Metrix
                | Method::Mimix
                | Method::Supremix
                | Method::Geomix
        )
    }

    /// Whether the inputs the model trains on are this method's sampled plan applied to the batch: the
    /// input-level methods, those that keep the plan's inputs and change only the labels or the loss
    /// (DecoupleMix, TransMix, MixPro, TL-Align, TokenMix), the patch-source task, which trains on its base
    /// method's plan, and beat-synchronous mixup, whose partner move `show` replays. The rest form their
    /// inputs inside training — from the model's saliency, attention or learned masks, at a hidden layer,
    /// from partners the trainer picks, or, as RankMixup, the raw batch beside one or more mixes — so a
    /// picture of their plan would show blends they never train on, or only part of what they do. (A method
    /// mixed at a hidden layer by `mix_at` is not pictured by its plan either: the caller checks that.)
    pub fn plan_shows_its_inputs(self) -> bool {
        self.is_input_level()
            || matches!(
                self,
                Method::Decouplemix
                    | Method::Transmix
                    | Method::Mixpro
                    | Method::Tlalign
                    | Method::Tokenmix
                    | Method::Patchsource
                    | Method::Beatsync
            )
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = Method::ALL.iter().map(|m| m.name()).collect();
                Error::Incompatible(format!("unknown method {s:?}; known: {}", names.join(", ")))
            })
    }
}

/// A method together with its hyper-parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "kebab-case")]
pub enum MethodConfig {
    /// No mixing: every sample is kept with label weight 1.
    None,
    /// MixUp and its α.
    Mixup(MixupConfig),
    /// CutMix and its box-size distribution.
    Cutmix(CutmixConfig),
    /// FMix and its Fourier-mask parameters.
    Fmix(FmixConfig),
    /// ResizeMix and its paste-scale range.
    Resizemix(ResizemixConfig),
    /// GridMix and its grid parameters.
    Gridmix(GridmixConfig),
    /// SmoothMix and its Gaussian-mask parameters.
    Smoothmix(SmoothmixConfig),
    /// SaliencyMix and its box-size distribution; needs the batch data ([`MethodConfig::needs_data`]).
    Saliencymix(SaliencymixConfig),
    /// MaskMix (MixPro) and its patch parameters.
    Maskmix(MaskmixConfig),
    /// Manifold Mixup and the layers it may mix at (training only).
    Manifoldmix(ManifoldmixConfig),
    /// C-Mixup and its target-similarity kernel (training only).
    CMixup(CmixupConfig),
    /// DecoupleMix: its base input-level method and the decoupled loss's weight (training only).
    Decouplemix(DecouplemixConfig),
    /// RankMixup and its ranking loss (training only).
    Rankmixup(RankmixupConfig),
    /// PuzzleMix and its graph-cut and transport parameters (training only).
    Puzzlemix(PuzzlemixConfig),
    /// GuidedMixup and its saliency parameters (training only).
    Guidedmix(GuidedmixConfig),
    /// SnapMix and the β of its box λs (training only).
    Snapmix(SnapmixConfig),
    /// AlignMix and its Sinkhorn settings (training only).
    Alignmix(AlignmixConfig),
    /// AttentiveMix and its teacher (training only).
    Attentivemix(AttentivemixConfig),
    /// TransMix and its CutMix boxes (training only).
    Transmix(TransmixConfig),
    /// MixPro: MaskMix and progressive attention labelling (training only).
    Mixpro(MixproConfig),
    /// TL-Align and its token boxes (training only).
    Tlalign(TlalignConfig),
    /// TokenMix, its token masks and teacher (training only).
    Tokenmix(TokenmixConfig),
    /// See [`smmix`].
    Smmix(SmmixConfig),
    /// See [`adamixup`].
    Adamixup(AdamixupConfig),
    /// See [`automix`].
    Automix(AutomixConfig),
    /// See [`automix`]: SAMix reads the same hyper-parameters.
    Samix(AutomixConfig),
    /// See [`adautomix`].
    Adautomix(AdautomixConfig),
    /// See [`beatsync`].
    Beatsync(BeatsyncConfig),
    /// See [`mixmatch`].
    Mixmatch(MixmatchConfig),
    /// See [`crossmodal`].
    M3col(M3colConfig),
    /// See [`crossmodal`].
    Cm3(Cm3Config),
    /// See [`dualmix`].
    Dualmix(DualmixConfig),
    /// See [`proxydet`].
    Proxydet(ProxydetConfig),
    /// See [`patchsource`].
    Patchsource(PatchsourceConfig),
    /// See [`clem`].
    Clem(ClemConfig),
    /// See [`mixedae`].
    Mixedae(MixedaeConfig),
    /// Metrix and its metric-learning setup (training only).
    Metrix(MetrixConfig),
    /// MI-Mix and its contrastive setup (training only).
    Mimix(MimixConfig),
    /// SupReMix and its contrastive-regression setup (training only).
    Supremix(SupremixConfig),
    /// Geodesic multi-modal mixup and its CLIP-style loss setup (training only).
    Geomix(GeomixConfig),
}

impl MethodConfig {
    /// Which method this is.
    pub fn method(&self) -> Method {
        match self {
            MethodConfig::None => Method::None,
            MethodConfig::Mixup(_) => Method::Mixup,
            MethodConfig::Cutmix(_) => Method::Cutmix,
            MethodConfig::Fmix(_) => Method::Fmix,
            MethodConfig::Resizemix(_) => Method::Resizemix,
            MethodConfig::Gridmix(_) => Method::Gridmix,
            MethodConfig::Smoothmix(_) => Method::Smoothmix,
            MethodConfig::Saliencymix(_) => Method::Saliencymix,
            MethodConfig::Maskmix(_) => Method::Maskmix,
            MethodConfig::Manifoldmix(_) => Method::Manifoldmix,
            MethodConfig::CMixup(_) => Method::CMixup,
            MethodConfig::Decouplemix(_) => Method::Decouplemix,
            MethodConfig::Rankmixup(_) => Method::Rankmixup,
            MethodConfig::Puzzlemix(_) => Method::Puzzlemix,
            MethodConfig::Guidedmix(_) => Method::Guidedmix,
            MethodConfig::Snapmix(_) => Method::Snapmix,
            MethodConfig::Alignmix(_) => Method::Alignmix,
            MethodConfig::Attentivemix(_) => Method::Attentivemix,
            MethodConfig::Transmix(_) => Method::Transmix,
            MethodConfig::Mixpro(_) => Method::Mixpro,
            MethodConfig::Tlalign(_) => Method::Tlalign,
            MethodConfig::Tokenmix(_) => Method::Tokenmix,
            MethodConfig::Smmix(_) => Method::Smmix,
            MethodConfig::Adamixup(_) => Method::Adamixup,
            MethodConfig::Automix(_) => Method::Automix,
            MethodConfig::Samix(_) => Method::Samix,
            MethodConfig::Adautomix(_) => Method::Adautomix,
            MethodConfig::Beatsync(_) => Method::Beatsync,
            MethodConfig::Mixmatch(_) => Method::Mixmatch,
            MethodConfig::M3col(_) => Method::M3col,
            MethodConfig::Cm3(_) => Method::Cm3,
            MethodConfig::Dualmix(_) => Method::Dualmix,
            MethodConfig::Proxydet(_) => Method::Proxydet,
            MethodConfig::Patchsource(_) => Method::Patchsource,
            MethodConfig::Clem(_) => Method::Clem,
            MethodConfig::Mixedae(_) => Method::Mixedae,
            MethodConfig::Metrix(_) => Method::Metrix,
            MethodConfig::Mimix(_) => Method::Mimix,
            MethodConfig::Supremix(_) => Method::Supremix,
            MethodConfig::Geomix(_) => Method::Geomix,
        }
    }

    /// Validates the config for a sample shape.
    pub fn validate(&self, shape: &SampleShape) -> Result<()> {
        match self {
            MethodConfig::None => Ok(()),
            MethodConfig::Mixup(c) => c.validate(shape),
            MethodConfig::Cutmix(c) => c.validate(shape),
            MethodConfig::Fmix(c) => c.validate(shape),
            MethodConfig::Resizemix(c) => c.validate(shape),
            MethodConfig::Gridmix(c) => c.validate(shape),
            MethodConfig::Smoothmix(c) => c.validate(shape),
            MethodConfig::Saliencymix(c) => c.validate(shape),
            MethodConfig::Maskmix(c) => c.validate(shape),
            MethodConfig::Manifoldmix(c) => c.validate(shape),
            MethodConfig::CMixup(c) => c.validate(shape),
            MethodConfig::Decouplemix(c) => c.validate(shape),
            MethodConfig::Rankmixup(c) => c.validate(shape),
            MethodConfig::Puzzlemix(c) => c.validate(shape),
            MethodConfig::Guidedmix(c) => c.validate(shape),
            MethodConfig::Snapmix(c) => c.validate(shape),
            MethodConfig::Alignmix(c) => c.validate(shape),
            MethodConfig::Attentivemix(c) => c.validate(shape),
            MethodConfig::Transmix(c) => c.validate(shape),
            MethodConfig::Mixpro(c) => c.validate(shape),
            MethodConfig::Tlalign(c) => c.validate(shape),
            MethodConfig::Tokenmix(c) => c.validate(shape),
            MethodConfig::Smmix(c) => c.validate(shape),
            MethodConfig::Adamixup(c) => c.validate(shape),
            MethodConfig::Automix(c) | MethodConfig::Samix(c) => c.validate(shape),
            MethodConfig::Adautomix(c) => c.validate(shape),
            MethodConfig::Beatsync(c) => c.validate(shape),
            MethodConfig::Mixmatch(c) => c.validate(shape),
            MethodConfig::M3col(c) => c.validate(shape),
            MethodConfig::Cm3(c) => c.validate(shape),
            MethodConfig::Dualmix(c) => c.validate(shape),
            MethodConfig::Proxydet(c) => c.validate(shape),
            MethodConfig::Patchsource(c) => c.validate(shape),
            MethodConfig::Clem(c) => c.validate(shape),
            MethodConfig::Mixedae(c) => c.validate(shape),
            MethodConfig::Metrix(c) => c.validate(shape),
            MethodConfig::Mimix(c) => c.validate(shape),
            MethodConfig::Supremix(c) => c.validate(shape),
            MethodConfig::Geomix(c) => c.validate(shape),
        }
    }

    /// The draws of `n` samples that share one draw (a batch): one draw cloned `n` times, except where the
    /// reference shares only λ: MaskMix (and MixPro's, and PatchSource's and DecoupleMix's over it) draws every sample's kept
    /// patches anew. Returns `n` draws (at least one).
    pub fn draw_group<R: Rng + ?Sized>(
        &self,
        ctx: &DrawCtx<'_>,
        n: usize,
        rng: &mut R,
    ) -> Result<Vec<Draw>> {
        let n = n.max(1);
        match self {
            MethodConfig::Maskmix(c) => c.draw_batch(ctx.shape, n, rng),
            MethodConfig::Mixpro(c) => c.maskmix().draw_batch(ctx.shape, n, rng),
            MethodConfig::Patchsource(c) => c.base.draw_group(ctx, n, rng),
            MethodConfig::Decouplemix(c) => c.base.draw_group(ctx, n, rng),
            _ => Ok(vec![self.draw(ctx, rng)?; n]),
        }
    }

    /// Draws one mix.
    pub fn draw<R: Rng + ?Sized>(&self, ctx: &DrawCtx<'_>, rng: &mut R) -> Result<Draw> {
        match self {
            MethodConfig::None => Ok(Draw {
                weight: SampleWeight::Keep,
                lam_label: 1.0,
            }),
            MethodConfig::Mixup(c) => c.draw(ctx, rng),
            MethodConfig::Cutmix(c) => c.draw(ctx, rng),
            MethodConfig::Fmix(c) => c.draw(ctx, rng),
            MethodConfig::Resizemix(c) => c.draw(ctx, rng),
            MethodConfig::Gridmix(c) => c.draw(ctx, rng),
            MethodConfig::Smoothmix(c) => c.draw(ctx, rng),
            MethodConfig::Saliencymix(c) => c.draw(ctx, rng),
            MethodConfig::Maskmix(c) => c.draw(ctx, rng),
            MethodConfig::Manifoldmix(c) => c.draw(ctx, rng),
            MethodConfig::CMixup(c) => c.draw(ctx, rng),
            MethodConfig::Decouplemix(c) => c.draw(ctx, rng),
            MethodConfig::Rankmixup(c) => c.draw(ctx, rng),
            MethodConfig::Puzzlemix(c) => c.draw(ctx, rng),
            MethodConfig::Guidedmix(c) => c.draw(ctx, rng),
            MethodConfig::Snapmix(c) => c.draw(ctx, rng),
            MethodConfig::Alignmix(c) => c.draw(ctx, rng),
            MethodConfig::Attentivemix(c) => c.draw(ctx, rng),
            MethodConfig::Transmix(c) => c.draw(ctx, rng),
            MethodConfig::Mixpro(c) => c.draw(ctx, rng),
            MethodConfig::Tlalign(c) => c.draw(ctx, rng),
            MethodConfig::Tokenmix(c) => c.draw(ctx, rng),
            MethodConfig::Smmix(c) => c.draw(ctx, rng),
            MethodConfig::Adamixup(c) => c.draw(ctx, rng),
            MethodConfig::Automix(c) | MethodConfig::Samix(c) => c.draw(ctx, rng),
            MethodConfig::Adautomix(c) => c.draw(ctx, rng),
            MethodConfig::Beatsync(c) => c.draw(ctx, rng),
            MethodConfig::Mixmatch(c) => c.draw(ctx, rng),
            MethodConfig::M3col(c) => c.draw(ctx, rng),
            MethodConfig::Cm3(c) => c.draw(ctx, rng),
            MethodConfig::Dualmix(c) => c.draw(ctx, rng),
            MethodConfig::Proxydet(c) => c.draw(ctx, rng),
            MethodConfig::Patchsource(c) => c.draw(ctx, rng),
            MethodConfig::Clem(c) => c.draw(ctx, rng),
            MethodConfig::Mixedae(c) => c.draw(ctx, rng),
            MethodConfig::Metrix(c) => c.draw(ctx, rng),
            MethodConfig::Mimix(c) => c.draw(ctx, rng),
            MethodConfig::Supremix(c) => c.draw(ctx, rng),
            MethodConfig::Geomix(c) => c.draw(ctx, rng),
        }
    }

    /// The embedding task of a metric-learning method (Metrix, MI-Mix, ProxyDet); `None` for the rest.
    pub fn embedding_task(&self) -> Option<EmbeddingTask> {
        match self {
            MethodConfig::Metrix(c) => Some(c.task()),
            MethodConfig::Mimix(c) => Some(c.task()),
            MethodConfig::Proxydet(c) => Some(c.task()),
            _ => None,
        }
    }

    /// The method's own teacher path (AttentiveMix's attention network, TokenMix's label-map network),
    /// for methods that take one; `None` for the rest (a distillation teacher is the trainer's, not a
    /// method's).
    pub fn teacher_mut(&mut self) -> Option<&mut Option<std::path::PathBuf>> {
        match self {
            MethodConfig::Attentivemix(c) => Some(&mut c.teacher),
            MethodConfig::Tokenmix(c) => Some(&mut c.teacher),
            _ => None,
        }
    }

    /// The embedding width of a cross-modal (two-tower) method: geomix, m3col, cm3; `None` for the rest.
    pub fn cross_modal_dim(&self) -> Option<usize> {
        match self {
            MethodConfig::Geomix(c) => Some(c.dim),
            MethodConfig::M3col(c) => Some(c.dim),
            MethodConfig::Cm3(c) => Some(c.dim),
            _ => None,
        }
    }

    /// True when the method needs the batch data at sampling time.
    pub fn needs_data(&self) -> bool {
        match self {
            MethodConfig::Saliencymix(_) => true,
            MethodConfig::Decouplemix(c) => c.base.needs_data(),
            _ => false,
        }
    }
}

/// Checks a Beta concentration and samples λ ~ Beta(a, b).
pub fn sample_beta<R: Rng + ?Sized>(a: f64, b: f64, rng: &mut R) -> Result<f64> {
    let dist =
        rand_distr::Beta::new(a, b).map_err(|_| Error::param("alpha", "a finite number > 0", a))?;
    Ok(rand_distr::Distribution::sample(&dist, rng))
}

/// Validates a Beta concentration parameter.
pub fn check_alpha(name: &'static str, alpha: f64) -> Result<()> {
    if alpha.is_finite() && alpha > 0.0 {
        Ok(())
    } else {
        Err(Error::param(name, "a finite number > 0", alpha))
    }
}

/// Validates a probability-like value in [lo, hi].
pub fn check_range(name: &'static str, v: f64, lo: f64, hi: f64, rule: &'static str) -> Result<()> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(Error::param(name, rule, v))
    }
}

/// Helpers shared by the methods' unit tests.
#[cfg(test)]
pub(crate) mod test_util {
    use super::{Draw, DrawCtx, MixMethod};
    use crate::rng::{Purpose, stream};
    use crate::shape::SampleShape;
    use crate::weight::SampleWeight;

    /// One draw of `cfg` on `shape` from the Mix stream of `seed` (no partner data).
    pub fn draw<M: MixMethod>(cfg: &M, shape: &SampleShape, seed: u64) -> Draw {
        let ctx = DrawCtx {
            shape,
            partner_data: None,
        };
        cfg.draw(&ctx, &mut stream(seed, Purpose::Mix, 0, 0))
            .unwrap()
    }

    /// The mask of a mask draw (panics otherwise: a test failure).
    pub fn mask_of(d: &Draw) -> &[f32] {
        match &d.weight {
            SampleWeight::Mask { mask } => mask,
            other => panic!("expected a mask, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mixer::WeightedMethod;

    /// A method's fields are flattened beside the mixer's `weight` in configs and suite files, so no method
    /// may have a field of that name: every default config must survive a round trip inside a
    /// `WeightedMethod`.
    #[test]
    fn every_method_config_round_trips_beside_its_selection_weight() {
        for m in Method::ALL {
            let w = WeightedMethod {
                weight: 2.5,
                config: m.default_config(),
            };
            let text = serde_json::to_string(&w).unwrap();
            let back: WeightedMethod = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{m}: {text} does not parse back: {e}"));
            assert_eq!(back, w, "{m}");
            let keys = text.matches("\"weight\"").count();
            assert_eq!(keys, 1, "{m}: {text}");
        }
    }
}
