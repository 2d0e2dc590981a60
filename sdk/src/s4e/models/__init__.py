"""Typed request and response models of the S4E API (one module per area)."""

from s4e.models._base import CursorMeta, CursorPage, Page, PageMeta, RequestModel, S4EModel
from s4e.models.asset import (
    Asset,
    AssetBulkUpdate,
    AssetCreate,
    AssetMetadata,
    AssetUpdate,
    AssetVerification,
    BulkCounts,
    BulkItemResult,
    BulkResult,
    FindingSummary,
    ImportCounts,
    ImportResult,
    ImportRowResult,
    ItemError,
    Technology,
    Verification,
    VerificationCheck,
    VerificationMethodInfo,
    VerificationOverride,
)
from s4e.models.auth import Me, Meta, WorkspaceRef
from s4e.models.event import Actor, EcsDocument, Event
from s4e.models.finding import (
    Assignment,
    BulkAssignment,
    BulkChangeResult,
    BulkStatusChange,
    Comment,
    CommentAuthor,
    CommentInput,
    ExportRequest,
    Finding,
    FindingAsset,
    FindingFilter,
    FindingLocation,
    FindingSummaryCounts,
    FindingUpdate,
    HistoryActor,
    HistoryEntry,
    SeverityCounts,
    Sighting,
    StatusChange,
    Ticket,
)
from s4e.models.key import ApiKey, ApiKeyCreate, ApiKeyUpdate, ApiKeyWithSecret, AssetRestriction, AssetRestrictionInput
from s4e.models.oauth import AccessToken, OAuthClient, OAuthClientCreate, OAuthClientWithSecret
from s4e.models.scan import (
    Scan,
    ScanCreate,
    ScanError,
    ScanOutputLine,
    ScanStatus,
    ScanTask,
    TaskSummary,
    TriggeredBy,
)
from s4e.models.scan_profile import (
    ActionConditions,
    PostScanActionInput,
    ProfileRun,
    ProfileSchedule,
    ProfileScope,
    ProfileScopeInput,
    ScanProfile,
    ScanProfileCreate,
    ScanProfileUpdate,
    ScheduleInput,
    SchedulePreview,
    SchedulePreviewEntry,
    SkippedAsset,
    SkipWindow,
    SkipWindowInput,
)
from s4e.models.scanner import Scanner
from s4e.models.service import Service
from s4e.models.user import User, UserCreate, UserUpdate
from s4e.models.webhook import (
    Delivery,
    DeliveryAttempt,
    RedeliverFailed,
    RedeliverResult,
    Webhook,
    WebhookCreate,
    WebhookFilters,
    WebhookFiltersInput,
    WebhookTestResult,
    WebhookUpdate,
    WebhookWithSecret,
)
from s4e.models.workspace import (
    AcceptedUser,
    AcceptedWorkspace,
    Invitation,
    InvitationAccept,
    InvitationAccepted,
    Member,
    MemberAdd,
    MemberUpdate,
    Workspace,
    WorkspaceCreate,
    WorkspaceSettings,
    WorkspaceUpdate,
)

__all__ = [
    "Assignment", "BulkAssignment", "BulkChangeResult", "BulkStatusChange", "Comment", "CommentAuthor", "CommentInput",
    "ExportRequest", "Finding", "FindingAsset", "FindingFilter", "FindingLocation", "FindingSummaryCounts",
    "FindingUpdate", "HistoryActor", "HistoryEntry", "SeverityCounts", "Sighting", "StatusChange", "Ticket",
    "AcceptedUser", "AcceptedWorkspace", "AccessToken", "Actor", "ApiKey", "ApiKeyCreate", "ApiKeyUpdate",
    "ApiKeyWithSecret", "Asset", "AssetBulkUpdate", "AssetCreate", "AssetMetadata", "AssetRestriction",
    "AssetRestrictionInput", "AssetUpdate", "AssetVerification", "BulkCounts", "BulkItemResult", "BulkResult",
    "CursorMeta", "CursorPage", "Delivery", "DeliveryAttempt", "EcsDocument", "Event", "FindingSummary", "ImportCounts",
    "ImportResult", "ImportRowResult", "Invitation", "InvitationAccept", "InvitationAccepted", "ItemError", "Me",
    "Member", "MemberAdd", "MemberUpdate", "Meta", "OAuthClient", "OAuthClientCreate", "OAuthClientWithSecret", "Page",
    "PageMeta", "RedeliverFailed", "RedeliverResult", "RequestModel", "S4EModel", "Scan",
    "ScanCreate", "ScanError", "ScanOutputLine", "ScanStatus", "ScanTask", "Scanner", "TaskSummary", "TriggeredBy",
    "Technology", "User",
    "UserCreate", "UserUpdate", "Verification", "VerificationCheck", "VerificationMethodInfo", "VerificationOverride",
    "Webhook", "WebhookCreate", "WebhookFilters", "WebhookFiltersInput", "WebhookTestResult", "WebhookUpdate",
    "WebhookWithSecret", "Workspace", "WorkspaceCreate", "WorkspaceRef", "WorkspaceSettings", "WorkspaceUpdate",
    "Service",
    "ActionConditions", "PostScanActionInput", "ProfileRun", "ProfileSchedule", "ProfileScope", "ProfileScopeInput",
    "ScanProfile", "ScanProfileCreate", "ScanProfileUpdate", "ScheduleInput", "SchedulePreview",
    "SchedulePreviewEntry", "SkippedAsset", "SkipWindow", "SkipWindowInput",
]
