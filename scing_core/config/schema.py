"""The training configuration: frozen dataclasses, one comment per field.

Precedence when resolving: these defaults < preset YAML (``resources/configs``) < ``key=value``
overrides. Every run writes its resolved config to ``RUN_DIR/config.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "synthped"            # training dataset name (see `scing data list`)
    root: str = "data"                   # dataset folder, or a parent holding it
    test_datasets: tuple[str, ...] = ()  # extra evaluation datasets as "name" or "name@root"; () = the training one
    image_size: tuple[int, int] = (256, 128)  # (height, width) fed to the network
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)  # normalisation mean (CLIP-ReID uses 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)   # normalisation std
    ids_per_batch: int = 16              # P of the PK sampler
    instances_per_id: int = 4            # K of the PK sampler (batch = P*K)
    test_batch_size: int = 128           # batch size for feature extraction
    num_workers: int = 4                 # DataLoader workers (0 = main process)
    flip_p: float = 0.5                  # train transform: horizontal flip probability
    pad: int = 10                        # train transform: padding before the random crop
    crop_p: float = 0.5                  # train transform: probability of pad + random crop
    erase_p: float = 0.5                 # train transform: random erasing probability
    erase_mode: str = "pixel"            # erased pixels: "pixel" = per-pixel N(0, 1) noise (CLIP-ReID's timm RandomErasing mode='pixel') | "mean" = 0, the mean colour
    msmt_use_val: bool = True            # MSMT17: train on train + val lists
    val_ids: int = 0                     # training identities held out as a validation split (model_selection "val"); 0 = none


@dataclass(frozen=True)
class PerturbConfig:
    """PDCA's random perturbation T (paper sec. 4.2): image-level ops + feature dropout.

    Stage 1 encodes a bank of ``views_per_image`` perturbed views per training image and draws the
    bank anew every ``refresh_every`` epochs; each step takes two distinct views of the bank.
    """

    flip_p: float = 0.5                  # horizontal flip
    erase_p: float = 0.5                 # random erasing
    crop_p: float = 0.5                  # random resized crop
    occlude_p: float = 0.5               # paste an occluder (patch of another image or synthetic shape)
    feature_dropout: float = 0.5         # dropout on the backbone's final feature map (CLS token before ln_post), per step
    views_per_image: int = 2             # perturbed views per training image in the bank (>= 2: PDCA compares two)
    refresh_every: int = 1               # epochs between fresh banks of views (1 = fresh views every epoch; 0 = one bank for the whole stage)


@dataclass(frozen=True)
class ModelConfig:
    method: str = "scing"                # clipreid | cocoop | scing
    arch: str = "ViT-B-16"               # open_clip architecture name (also RN50, scing-tiny, synthclip-s)
    pretrained: str = ""                 # open_clip tag (e.g. "openai") or a local weights file; "" = random init
    activation: str = "auto"             # MLP activation: "auto" (what the weights imply: QuickGELU for OpenAI's CLIP, as a tag or a file) | "quick_gelu" | "gelu"; checkpoints record the one built
    stride: int = 16                     # ViT patch stride (12 = overlapping patches)
    sie: bool = False                    # side information embedding: a learned camera vector added to CLS
    sie_coef: float = 1.0                # scale of the SIE vector
    n_ctx: int = 4                       # L: learnable tokens per identity
    n_cond: int = 2                      # M: tokens (the first M) that receive the visual condition (scing)
    cond_source: str = "pre_proj"        # scing: V = "pre_proj" CLS feature or "proj" (projected) feature
    gate: bool = True                    # scing: use the selective gate alpha (False = plain c, an ablation)
    per_token_cond: bool = False         # scing: each of the first M tokens gets its own c_i and alpha_i
    ctx_init_std: float = 0.02           # init std of the learnable tokens
    prompt_prefix: str = "A photo of a"  # text before the learnable tokens
    prompt_suffix: str = "person."       # text after them
    test_feature: str = "concat"         # inference descriptor: "concat" (pre_proj ++ proj, as CLIP-ReID), "proj" (the paper's g_p), "pre_proj"
    neck_feat: str = "before"            # use features "before" or "after" the BNNeck at inference


@dataclass(frozen=True)
class LossConfig:
    supcon_similarity: str = "cosine"    # stage-1 SupCon logits: "cosine" (cos * logit_scale / temperature, paper eq. 1) | "dot" (raw dot products / temperature, CLIP-ReID's supcontrast.py)
    temperature: float = 1.0             # stage-1 SupCon temperature
    lambda_con: float = 0.0              # lambda: weight of PDCA consistency L_con (0 = PDCA off; > 0 needs a conditional method)
    w_i2t_ce: float = 1.0                # stage 2: cross-entropy of image features over all prototypes
    i2t_similarity: str = "cosine"       # stage-2 i2t logits: "cosine" (cos * scale, paper eq. 17) | "dot" (projected feature . raw text feature, CLIP-ReID)
    w_xm_triplet: float = 1.0            # gamma: cross-modal triplet (prototype positive, hardest image negative)
    xm_margin: float = 0.2               # margin of the cross-modal triplet
    w_id: float = 0.0                    # CLIP-ReID's identity (label-smoothed CE) loss on the classifiers
    w_triplet: float = 0.0               # CLIP-ReID's batch-hard triplet loss
    triplet_margin: float = 0.3          # its margin
    triplet_features: tuple[str, ...] = ("pre_proj", "proj")  # features the batch-hard triplet runs on: penultimate (CLS after the second-to-last block, CLIP-ReID's layer 11), pre_proj, proj
    label_smoothing: float = 0.0         # label smoothing of the ID loss and the stage-2 i2t CE (CLIP-ReID: 0.1 on both)
    i2t_logit_scale: float = 0.0         # stage 2 i2t CE: fixed scale for cosine logits; 0 = the CLIP model's logit_scale


@dataclass(frozen=True)
class StageConfig:
    epochs: int = 120                    # epochs of this stage
    optimizer: str = "adam"              # adam | adamw | sgd
    lr: float = 5e-5                     # base learning rate
    weight_decay: float = 5e-4           # weight decay
    scheduler: str = "multistep"         # multistep | cosine | constant
    milestones: tuple[int, ...] = (30, 50)  # multistep: epochs where lr *= gamma
    gamma: float = 0.1                   # multistep decay factor
    warmup_epochs: int = 0               # linear warm-up epochs
    warmup_factor: float = 0.1           # lr multiplier at the start of warm-up
    min_lr: float = 1e-6                 # cosine floor
    bias_lr_factor: float = 1.0          # lr multiplier for every parameter whose name contains "bias" (CLIP-ReID uses 2 in stage 2)
    grad_clip: float = 0.0               # clip gradient norm (0 = off)
    steps_per_epoch: int = 0             # 0 = one pass over the sampler; >0 caps the steps
    batching: str = "pk"                 # batches: "pk" (P ids x K images) | "shuffle" (a random permutation of all images cut into P*K, the last batch partial; CLIP-ReID's stage 1). Stage 2 is always "pk".


@dataclass(frozen=True)
class TrainConfig:
    name: str = "scing"                  # free-form run label
    seed: int = 0                        # global seed; every epoch reseeds from (seed, stage, epoch)
    device: str = "auto"                 # auto | cpu | cuda | cuda:N
    amp: str = "auto"                    # auto (bf16 on CUDA when supported, else fp16) | bf16 | fp16 | off
    eval_precision: str = "fp32"         # feature extraction for evaluation: "fp32" (as CLIP-ReID's test) | "amp" (under the training's autocast on GPUs: faster, the last digits differ)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    perturb: PerturbConfig = field(default_factory=PerturbConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    stage1: StageConfig = field(default_factory=StageConfig)
    stage2: StageConfig = field(default_factory=StageConfig)
    prototypes: str = "conditioned"      # stage-2 class prototypes: "conditioned" (mean over the identity's images) | "unconditioned" (bare prompt)
    model_selection: str = "final"       # the checkpoint a run reports: "final" (last epoch, as the paper and CLIP-ReID) | "test" (best test mAP: optimistic, labelled so) | "val" (best mAP on data.val_ids held-out training ids)
    eval_every: int = 10                 # stage 2: evaluate every N epochs (and at the end)
    checkpoint_every: int = 1            # write last.pt every N epochs
    log_every: int = 10                  # write a `step` event every N steps
