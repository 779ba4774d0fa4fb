// Every table, enum and index of VoxDB, declared once. Storage, validation,
// the indexes, and later the snapshot and wire formats are all driven from
// these definitions; see docs/schema.md for the reasoning behind each table.
//
// The seed's tables (users, auth_providers, rooms, room_participants,
// recordings, audit_logs) keep every seed field, in snake_case and in seed
// order, followed by what the mission objectives add. New tables follow.
#ifndef VOXDB_SCHEMA_TABLES_H_
#define VOXDB_SCHEMA_TABLES_H_

#include "schema/schema.h"

namespace vox {

// ---- Enums ------------------------------------------------------------------
// E(Name, VALUE, ...): value names are the wire/text names; order is storage
// order, so new values are only ever appended (docs/schema.md).
#define VOX_ENUMS(E)                                                                               \
  E(AuthProviderType, LOCAL, GOOGLE, GITHUB, MICROSOFT, APPLE, SAML)                               \
  E(RoomStatus, CREATED, LIVE, ENDED, CANCELLED)                                                   \
  E(ParticipantRole, HOST, CO_HOST, PARTICIPANT)                                                   \
  E(RecordingStatus, STARTED, IN_PROGRESS, STOPPED, FAILED, PROCESSING, READY)                     \
  E(AuditAction, USER_REGISTERED, USER_LOGIN_SUCCESS, USER_LOGIN_FAILED, USER_LOGOUT,              \
    ROOM_CREATED, ROOM_STARTED, ROOM_ENDED, ROOM_CANCELLED, USER_JOINED, USER_LEFT, USER_KICKED,   \
    USER_BANNED, ROLE_CHANGED, ROLE_PROMOTION, ROLE_DEMOTION, USER_MUTED, USER_UNMUTED, ALL_MUTED, \
    SCREEN_SHARE_STARTED, SCREEN_SHARE_STOPPED, RECORDING_STARTED, RECORDING_STOPPED,              \
    RECORDING_DELETED, PRODUCER_CREATED, PRODUCER_CLOSED, CONSUMER_CREATED, CONSUMER_CLOSED,       \
    UNAUTHORIZED_ACCESS_ATTEMPT, RATE_LIMIT_EXCEEDED,                                              \
    SUSPICIOUS_ACTIVITY, /* the seed lists 30 (its heading says 31); appended for the mission: */  \
    HAND_RAISED, HAND_LOWERED, USER_UNBANNED, PROFILE_UPDATED, ACCOUNT_STATUS_CHANGED,             \
    ROOM_UPDATED, RECORDING_FAILED, RECORDING_READY, CALL_CONNECTED, CALL_FAILED, CALL_ENDED,      \
    MODERATION_ACTION_TAKEN, MODERATION_ACTION_REVOKED, MODERATION_ACTION_EXPIRED, WALLET_TOP_UP,  \
    GIFT_SENT, PREMIUM_PURCHASED, PREMIUM_REFUNDED, TRANSFER_RESERVED, TRANSFER_POSTED,            \
    TRANSFER_VOIDED, TRANSFER_REVERSED, AUTH_PROVIDER_LINKED, AUTH_PROVIDER_UNLINKED,              \
    SCHEMA_MIGRATED)                                                                               \
  E(AccountStatus, ACTIVE, SUSPENDED, BANNED, DELETED)                                             \
  E(UserRole, USER, MODERATOR, ADMIN, SUPER_ADMIN)                                                 \
  E(ConnectionStatus, CONNECTING, CONNECTED, RECONNECTING, DISCONNECTED)                           \
  E(CallSessionStatus, CONNECTING, CONNECTED, FAILED, DROPPED, ENDED)                              \
  E(CallFailureReason, ICE_FAILED, DTLS_FAILED, TIMEOUT, NETWORK_CHANGED, SERVER_ERROR,            \
    MEDIA_PERMISSION_DENIED, CLIENT_ERROR, UNKNOWN)                                                \
  E(CallTransport, UDP, TCP, TURN_UDP, TURN_TCP, TURN_TLS)                                         \
  E(ModerationActionType, WARNING, MUTE, KICK, ROOM_BAN, SUSPENSION, PLATFORM_BAN)                 \
  E(WalletKind, USER, SYSTEM_ISSUANCE, SYSTEM_REVENUE, SYSTEM_PAYOUT)                              \
  E(TransferType, TOP_UP, GIFT, FEE, PURCHASE, REFUND, PAYOUT, CALL_CHARGE, REVERSAL)              \
  E(TransferStatus, PENDING, POSTED, VOIDED)                                                       \
  E(PremiumKind, ONE_TIME, SUBSCRIPTION)                                                           \
  E(PurchaseStatus, ACTIVE, EXPIRED, CANCELLED, REFUNDED)                                          \
  E(NotificationKind, ROOM_INVITATION, MISSED_CALL, GIFT_RECEIVED, ROOM_STARTING,                  \
    MODERATION_NOTICE, SYSTEM_MESSAGE)                                                             \
  E(Severity, DEBUG, INFO, WARNING, ERROR, CRITICAL)

#define VOX_DECLARE_ENUM_(Name, ...) enum class Name : uint8_t { __VA_ARGS__ };
VOX_ENUMS(VOX_DECLARE_ENUM_)
#undef VOX_DECLARE_ENUM_

#define VOX_ENUM_ID_(Name, ...) Name,
enum class EnumId : uint8_t { VOX_ENUMS(VOX_ENUM_ID_) kCount };
#undef VOX_ENUM_ID_

namespace schema_internal {
#define VOX_ENUM_NAMES_(Name, ...) \
  inline constexpr auto k##Name##Names = SplitNames<CountNames(#__VA_ARGS__)>(#__VA_ARGS__);
VOX_ENUMS(VOX_ENUM_NAMES_)
#undef VOX_ENUM_NAMES_
}  // namespace schema_internal

inline constexpr EnumDef kEnums[] = {
#define VOX_ENUM_DEF_(Name, ...) {#Name, schema_internal::k##Name##Names},
    VOX_ENUMS(VOX_ENUM_DEF_)
#undef VOX_ENUM_DEF_
};
static_assert(std::size(kEnums) == static_cast<size_t>(EnumId::kCount));
static_assert(static_cast<int>(AuditAction::SUSPICIOUS_ACTIVITY) == 29,
              "the seed has 30 named actions");

constexpr const EnumDef& GetEnum(EnumId id) { return kEnums[static_cast<size_t>(id)]; }
inline constexpr size_t kEnumCount = static_cast<size_t>(EnumId::kCount);

// The name of value `value` of enum `id`: a built-in name, else the name a
// migration gave it (schema/catalog.cc keeps those), else "#<value>". Safe
// for any stored value.
std::string_view EnumValueName(EnumId id, size_t value);
template <typename E>
std::string_view EnumName(EnumId id, E value) {
  return EnumValueName(id, static_cast<size_t>(value));
}

// ---- Tables -----------------------------------------------------------------

#define VOX_TABLES(T)                                                                     \
  T(users)                                                                                \
  T(auth_providers)                                                                       \
  T(room_categories) T(tags) T(rooms) T(room_participants) T(call_sessions) T(recordings) \
      T(audit_logs) T(moderation_actions) T(wallets) T(transactions) T(fee_schedule)      \
          T(premium_features) T(premium_purchases) T(notifications) T(system_events)

#define VOX_TABLE_ID_(name) name,
enum class TableId : uint8_t { VOX_TABLES(VOX_TABLE_ID_) kCount };
#undef VOX_TABLE_ID_
inline constexpr size_t kTableCount = static_cast<size_t>(TableId::kCount);

// C(column, definition). A column's position here is its ColumnId.
#define VOX_COLUMNS_users(C)                                       \
  C(id, PrimaryKeyCol())                                           \
  C(username, StringCol(32).Input())                               \
  C(email, StringCol(254).Nullable().Updatable())                  \
  C(password_hash, StringCol(255).Nullable().Updatable().Secret()) \
  C(display_name, StringCol(64).Updatable())                       \
  C(is_active, BoolCol().Default(1))                               \
  C(is_verified, BoolCol().Default(0).Updatable())                 \
  C(deleted_at, DeletedAtCol())                                    \
  C(created_at, CreatedAtCol())                                    \
  C(updated_at, UpdatedAtCol())                                    \
  C(last_login_at, TimestampCol().Nullable())                      \
  C(account_status, EnumCol(EnumId::AccountStatus).Default(0))     \
  C(role, EnumCol(EnumId::UserRole).Default(0))                    \
  C(status_reason, StringCol(500).Nullable())                      \
  C(suspended_until, TimestampCol().Nullable())                    \
  C(failed_login_count, Int32Col().Default(0))                     \
  C(bio, StringCol(1000).Nullable().Updatable())                   \
  C(avatar_url, StringCol(2048).Nullable().Updatable())            \
  C(locale, StringCol(35).Nullable().Updatable())                  \
  C(country, StringCol(2).Nullable().Updatable())                  \
  C(timezone, StringCol(64).Nullable().Updatable())

#define VOX_COLUMNS_auth_providers(C)                               \
  C(id, PrimaryKeyCol())                                            \
  C(user_id, RefCol(TableId::users).Input())                        \
  C(provider_type, EnumCol(EnumId::AuthProviderType).Input())       \
  C(provider_id, StringCol(255).Input())                            \
  C(provider_email, StringCol(254).Nullable().Updatable())          \
  C(access_token, StringCol(4096).Nullable().Updatable().Secret())  \
  C(refresh_token, StringCol(4096).Nullable().Updatable().Secret()) \
  C(token_expires_at, TimestampCol().Nullable().Updatable())        \
  C(metadata, JsonCol(8192).Nullable().Updatable())                 \
  C(created_at, CreatedAtCol())                                     \
  C(updated_at, UpdatedAtCol())                                     \
  C(last_used_at, TimestampCol().Nullable())

#define VOX_COLUMNS_room_categories(C) \
  C(id, PrimaryKeyCol())               \
  C(name, StringCol(100).Updatable())  \
  C(created_at, CreatedAtCol())

#define VOX_COLUMNS_tags(C)      \
  C(id, PrimaryKeyCol())         \
  C(name, StringCol(32).Input()) \
  C(created_at, CreatedAtCol())

#define VOX_COLUMNS_rooms(C)                                                                \
  C(id, PrimaryKeyCol())                                                                    \
  C(owner_id, RefCol(TableId::users).Input())                                               \
  C(room_code, StringCol(32).Input())                                                       \
  C(title, StringCol(200).Updatable())                                                      \
  C(description, StringCol(2000).Nullable().Updatable())                                    \
  C(scheduled_start, TimestampCol().Nullable().Updatable())                                 \
  C(scheduled_end, TimestampCol().Nullable().Updatable())                                   \
  C(max_participants, Int32Col().Range(2, 10000).Default(100).Updatable())                  \
  C(is_public, BoolCol().Default(1).Updatable())                                            \
  C(is_recordable, BoolCol().Default(1).Updatable())                                        \
  C(require_auth, BoolCol().Default(1).Updatable())                                         \
  C(status, EnumCol(EnumId::RoomStatus).Default(0))                                         \
  C(started_at, TimestampCol().Nullable())                                                  \
  C(ended_at, TimestampCol().Nullable())                                                    \
  C(peak_participants, Int32Col().Default(0))                                               \
  C(total_joins, Int32Col().Default(0))                                                     \
  C(duration_seconds, Int32Col().Default(0))                                                \
  C(deleted_at, DeletedAtCol())                                                             \
  C(created_at, CreatedAtCol())                                                             \
  C(updated_at, UpdatedAtCol())                                                             \
  C(invite_only, BoolCol().Default(0).Updatable())                                          \
  C(mute_on_join, BoolCol().Default(0).Updatable())                                         \
  C(hand_raise_allowed, BoolCol().Default(1).Updatable())                                   \
  C(tags, TagsCol().Default(0).Updatable())                                                 \
  C(category_id,                                                                            \
    RefCol(TableId::room_categories).Nullable().Updatable().OnDeleteOf(OnDelete::kSetNull)) \
  C(language, StringCol(35).Nullable().Updatable())                                         \
  C(participant_count, Int32Col().Default(0))

#define VOX_COLUMNS_room_participants(C)                                    \
  C(id, PrimaryKeyCol())                                                    \
  C(user_id, RefCol(TableId::users).Input())                                \
  C(room_id, RefCol(TableId::rooms).Input().OnDeleteOf(OnDelete::kCascade)) \
  C(role, EnumCol(EnumId::ParticipantRole).Default(2))                      \
  C(joined_at, TimestampCol().DefaultNow())                                 \
  C(left_at, TimestampCol().Nullable())                                     \
  C(is_kicked, BoolCol().Default(0))                                        \
  C(kicked_at, TimestampCol().Nullable())                                   \
  C(kicked_by, RefCol(TableId::users).Nullable())                           \
  C(kick_reason, StringCol(500).Nullable())                                 \
  C(is_banned, BoolCol().Default(0))                                        \
  C(banned_at, TimestampCol().Nullable())                                   \
  C(banned_by, RefCol(TableId::users).Nullable())                           \
  C(ban_reason, StringCol(500).Nullable())                                  \
  C(duration_seconds, Int32Col().Default(0))                                \
  C(is_muted, BoolCol().Default(0))                                         \
  C(muted_by_host, BoolCol().Default(0))                                    \
  C(muted_at, TimestampCol().Nullable())                                    \
  C(mute_expires_at, TimestampCol().Nullable())                             \
  C(hand_raised, BoolCol().Default(0))                                      \
  C(hand_raised_at, TimestampCol().Nullable())                              \
  C(is_speaking, BoolCol().Default(0))                                      \
  C(is_screen_sharing, BoolCol().Default(0))                                \
  C(connection_status, EnumCol(EnumId::ConnectionStatus).Default(1))        \
  C(mute_count, Int32Col().Default(0))                                      \
  C(hand_raise_count, Int32Col().Default(0))                                \
  C(ban_expires_at, TimestampCol().Nullable())

#define VOX_COLUMNS_call_sessions(C)                                                   \
  C(id, PrimaryKeyCol())                                                               \
  C(participant_id, RefCol(TableId::room_participants).OnDeleteOf(OnDelete::kCascade)) \
  C(user_id, RefCol(TableId::users))                                                   \
  C(room_id, RefCol(TableId::rooms))                                                   \
  C(status, EnumCol(EnumId::CallSessionStatus).Default(0))                             \
  C(started_at, TimestampCol().DefaultNow())                                           \
  C(connected_at, TimestampCol().Nullable())                                           \
  C(ended_at, TimestampCol().Nullable())                                               \
  C(failure_reason, EnumCol(EnumId::CallFailureReason).Nullable())                     \
  C(failure_detail, StringCol(500).Nullable())                                         \
  C(rtt_ms, Int32Col().Nullable().Range(0, 600000))                                    \
  C(jitter_ms, Int32Col().Nullable().Range(0, 600000))                                 \
  C(packet_loss_bp, Int32Col().Nullable().Range(0, 10000))                             \
  C(bitrate_kbps, Int32Col().Nullable().Range(0, 100000000))                           \
  C(region, StringCol(32).Nullable())                                                  \
  C(transport, EnumCol(EnumId::CallTransport).Nullable())                              \
  C(created_at, CreatedAtCol())                                                        \
  C(updated_at, UpdatedAtCol())

#define VOX_COLUMNS_recordings(C)                                   \
  C(id, PrimaryKeyCol())                                            \
  C(room_id, RefCol(TableId::rooms))                                \
  C(owner_id, RefCol(TableId::users))                               \
  C(storage_key, StringCol(512))                                    \
  C(storage_url, StringCol(2048).Nullable())                        \
  C(storage_bucket, StringCol(255).Nullable().Updatable())          \
  C(filename, StringCol(255).Nullable().Updatable())                \
  C(size_bytes, Int64Col().Range(0, INT64_MAX).Default(0))          \
  C(duration_seconds, Int32Col().Range(0, INT32_MAX).Default(0))    \
  C(codec, StringCol(32).Nullable().Updatable())                    \
  C(resolution, StringCol(32).Nullable().Updatable())               \
  C(fps, Int32Col().Nullable().Range(0, 1000).Updatable())          \
  C(bitrate, Int32Col().Nullable().Range(0, INT32_MAX).Updatable()) \
  C(status, EnumCol(EnumId::RecordingStatus).Default(0))            \
  C(started_at, TimestampCol().DefaultNow())                        \
  C(stopped_at, TimestampCol().Nullable())                          \
  C(error_message, StringCol(2000).Nullable())                      \
  C(retry_count, Int32Col().Default(0))                             \
  C(is_public, BoolCol().Default(0).Updatable())                    \
  C(expires_at, TimestampCol().Nullable().Updatable())              \
  C(deleted_at, DeletedAtCol())                                     \
  C(created_at, CreatedAtCol())                                     \
  C(updated_at, UpdatedAtCol())

#define VOX_COLUMNS_audit_logs(C)                              \
  C(id, PrimaryKeyCol())                                       \
  C(action, EnumCol(EnumId::AuditAction).Input())              \
  C(user_id, RefCol(TableId::users).Nullable().Input())        \
  C(room_id, RefCol(TableId::rooms).Nullable().Input())        \
  C(target_user_id, RefCol(TableId::users).Nullable().Input()) \
  C(metadata, JsonCol(8192).Nullable().Input())                \
  C(ip_address, InetCol().Nullable().Input())                  \
  C(user_agent, StringCol(512).Nullable().Input())             \
  C(timestamp, TimestampCol().DefaultNow())

#define VOX_COLUMNS_moderation_actions(C)               \
  C(id, PrimaryKeyCol())                                \
  C(action_type, EnumCol(EnumId::ModerationActionType)) \
  C(moderator_id, RefCol(TableId::users))               \
  C(target_user_id, RefCol(TableId::users))             \
  C(room_id, RefCol(TableId::rooms).Nullable())         \
  C(reason, StringCol(1000))                            \
  C(created_at, CreatedAtCol())                         \
  C(expires_at, TimestampCol().Nullable())              \
  C(revoked_at, TimestampCol().Nullable())              \
  C(revoked_by, RefCol(TableId::users).Nullable())      \
  C(revoke_reason, StringCol(1000).Nullable())          \
  C(lifted_at, TimestampCol().Nullable())

#define VOX_COLUMNS_wallets(C)                            \
  C(id, PrimaryKeyCol())                                  \
  C(user_id, RefCol(TableId::users).Nullable().Input())   \
  C(kind, EnumCol(EnumId::WalletKind).Default(0).Input()) \
  C(currency, StringCol(8).DefaultString("COIN").Input()) \
  C(posted_debits, Int64Col().Default(0))                 \
  C(posted_credits, Int64Col().Default(0))                \
  C(pending_debits, Int64Col().Default(0))                \
  C(pending_credits, Int64Col().Default(0))               \
  C(is_frozen, BoolCol().Default(0).Updatable())          \
  C(created_at, CreatedAtCol())                           \
  C(updated_at, UpdatedAtCol())

#define VOX_COLUMNS_transactions(C)                        \
  C(id, PrimaryKeyCol())                                   \
  C(debit_wallet_id, RefCol(TableId::wallets))             \
  C(credit_wallet_id, RefCol(TableId::wallets))            \
  C(amount, Int64Col().Range(1, INT64_MAX))                \
  C(currency, StringCol(8))                                \
  C(type, EnumCol(EnumId::TransferType))                   \
  C(status, EnumCol(EnumId::TransferStatus))               \
  C(idempotency_key, StringCol(128).Nullable())            \
  C(parent_id, RefCol(TableId::transactions).Nullable())   \
  C(reverses_id, RefCol(TableId::transactions).Nullable()) \
  C(room_id, RefCol(TableId::rooms).Nullable())            \
  C(memo, StringCol(500).Nullable())                       \
  C(timeout_at, TimestampCol().Nullable())                 \
  C(created_at, CreatedAtCol())                            \
  C(posted_at, TimestampCol().Nullable())                  \
  C(voided_at, TimestampCol().Nullable())

#define VOX_COLUMNS_fee_schedule(C)                             \
  C(id, PrimaryKeyCol())                                        \
  C(transfer_type, EnumCol(EnumId::TransferType).Input())       \
  C(fee_bps, Int32Col().Range(0, 10000).Input())                \
  C(min_fee, Int64Col().Range(0, INT64_MAX).Default(0).Input()) \
  C(effective_from, TimestampCol().Input())                     \
  C(created_at, CreatedAtCol())

#define VOX_COLUMNS_premium_features(C)                            \
  C(id, PrimaryKeyCol())                                           \
  C(code, StringCol(64).Input())                                   \
  C(name, StringCol(200).Updatable())                              \
  C(description, StringCol(2000).Nullable().Updatable())           \
  C(price, Int64Col().Range(1, INT64_MAX).Updatable())             \
  C(currency, StringCol(8).DefaultString("COIN").Input())          \
  C(kind, EnumCol(EnumId::PremiumKind).Input())                    \
  C(period_days, Int32Col().Nullable().Range(1, 3660).Updatable()) \
  C(is_active, BoolCol().Default(1).Updatable())                   \
  C(created_at, CreatedAtCol())                                    \
  C(updated_at, UpdatedAtCol())

#define VOX_COLUMNS_premium_purchases(C)                             \
  C(id, PrimaryKeyCol())                                             \
  C(user_id, RefCol(TableId::users))                                 \
  C(feature_id, RefCol(TableId::premium_features))                   \
  C(transaction_id, RefCol(TableId::transactions))                   \
  C(status, EnumCol(EnumId::PurchaseStatus).Default(0))              \
  C(price, Int64Col())                                               \
  C(purchased_at, TimestampCol().DefaultNow())                       \
  C(expires_at, TimestampCol().Nullable())                           \
  C(cancelled_at, TimestampCol().Nullable())                         \
  C(refunded_at, TimestampCol().Nullable())                          \
  C(refund_transaction_id, RefCol(TableId::transactions).Nullable()) \
  C(updated_at, UpdatedAtCol())

#define VOX_COLUMNS_notifications(C)                     \
  C(id, PrimaryKeyCol())                                 \
  C(recipient_id, RefCol(TableId::users).Input())        \
  C(kind, EnumCol(EnumId::NotificationKind).Input())     \
  C(actor_id, RefCol(TableId::users).Nullable().Input()) \
  C(room_id, RefCol(TableId::rooms).Nullable().Input())  \
  C(title, StringCol(200).Input())                       \
  C(body, StringCol(2000).Nullable().Input())            \
  C(payload, JsonCol(8192).Nullable().Input())           \
  C(created_at, CreatedAtCol())                          \
  C(read_at, TimestampCol().Nullable())                  \
  C(expires_at, TimestampCol().Nullable().Input())       \
  C(deleted_at, DeletedAtCol())

#define VOX_COLUMNS_system_events(C)                    \
  C(id, PrimaryKeyCol())                                \
  C(severity, EnumCol(EnumId::Severity).Input())        \
  C(component, StringCol(64).Input())                   \
  C(code, StringCol(64).Input())                        \
  C(message, StringCol(2000).Input())                   \
  C(details, JsonCol(8192).Nullable().Input())          \
  C(user_id, RefCol(TableId::users).Nullable().Input()) \
  C(room_id, RefCol(TableId::rooms).Nullable().Input()) \
  C(occurred_at, TimestampCol().DefaultNow().Input())

// Column ids: users::email, rooms::status, ...
#define VOX_COLUMN_ID_(name, def) name,
#define VOX_TABLE_COLUMN_IDS_(table)                                    \
  namespace table {                                                     \
  enum : ColumnId { VOX_COLUMNS_##table(VOX_COLUMN_ID_) kColumnCount }; \
  }
VOX_TABLES(VOX_TABLE_COLUMN_IDS_)
#undef VOX_TABLE_COLUMN_IDS_
#undef VOX_COLUMN_ID_

namespace schema_internal {
#define VOX_COLUMN_DEF_(name, def) (def).Named(#name),
#define VOX_TABLE_COLUMN_DEFS_(table) \
  inline constexpr ColumnDef k_##table##_columns[] = {VOX_COLUMNS_##table(VOX_COLUMN_DEF_)};
VOX_TABLES(VOX_TABLE_COLUMN_DEFS_)
#undef VOX_TABLE_COLUMN_DEFS_
#undef VOX_COLUMN_DEF_
}  // namespace schema_internal

inline constexpr TableDef kTables[] = {
    {"users", TableId::users, schema_internal::k_users_columns, DeletePolicy::kSoft, false,
     "register_user"},
    {"auth_providers", TableId::auth_providers, schema_internal::k_auth_providers_columns,
     DeletePolicy::kHard, false, ""},
    {"room_categories", TableId::room_categories, schema_internal::k_room_categories_columns,
     DeletePolicy::kHard, false, ""},
    {"tags", TableId::tags, schema_internal::k_tags_columns, DeletePolicy::kNone, false, ""},
    {"rooms", TableId::rooms, schema_internal::k_rooms_columns, DeletePolicy::kSoft, false,
     "create_room"},
    {"room_participants", TableId::room_participants, schema_internal::k_room_participants_columns,
     DeletePolicy::kHard, false, "join_room"},
    {"call_sessions", TableId::call_sessions, schema_internal::k_call_sessions_columns,
     DeletePolicy::kHard, false, "start_call_session"},
    {"recordings", TableId::recordings, schema_internal::k_recordings_columns, DeletePolicy::kSoft,
     false, "start_recording"},
    {"audit_logs", TableId::audit_logs, schema_internal::k_audit_logs_columns, DeletePolicy::kNone,
     true, ""},
    {"moderation_actions", TableId::moderation_actions,
     schema_internal::k_moderation_actions_columns, DeletePolicy::kNone, false,
     "take_moderation_action"},
    {"wallets", TableId::wallets, schema_internal::k_wallets_columns, DeletePolicy::kNone, false,
     ""},
    {"transactions", TableId::transactions, schema_internal::k_transactions_columns,
     DeletePolicy::kNone, false, "the transfer operations (top_up, gift, reserve, ...)"},
    {"fee_schedule", TableId::fee_schedule, schema_internal::k_fee_schedule_columns,
     DeletePolicy::kNone, true, ""},
    {"premium_features", TableId::premium_features, schema_internal::k_premium_features_columns,
     DeletePolicy::kNone, false, ""},
    {"premium_purchases", TableId::premium_purchases, schema_internal::k_premium_purchases_columns,
     DeletePolicy::kNone, false, "purchase_premium"},
    {"notifications", TableId::notifications, schema_internal::k_notifications_columns,
     DeletePolicy::kSoft, false, ""},
    {"system_events", TableId::system_events, schema_internal::k_system_events_columns,
     DeletePolicy::kNone, true, ""},
};
static_assert(std::size(kTables) == kTableCount);

constexpr const TableDef& GetTable(TableId id) { return kTables[static_cast<size_t>(id)]; }

// ---- Indexes ----------------------------------------------------------------
// Every table also has a unique hash index on its primary key (`id`), made by
// the engine. These serve the seed's Index Strategy, WORKLOAD.md R1-R9, the
// unique keys, and the foreign keys that deletes walk. "Children of a parent"
// listings are Grouped (a sorted vector per parent); global orders (expiry
// times, status, tags) are Ordered (B-tree).

inline constexpr IndexDef kIndexes[] = {
    // users
    UniqueHash(TableId::users, "users_email")
        .On(users::email)
        .Folded()
        .Where(NotNull(users::email)),
    UniqueHash(TableId::users, "users_username").On(users::username).Folded(),
    Ordered(TableId::users, "users_active")
        .On(users::created_at)
        .Where(Equals(users::is_active, 1))
        .Where(IsNull(users::deleted_at)),
    Ordered(TableId::users, "users_suspension_end")
        .On(users::suspended_until)
        .Where(NotNull(users::suspended_until)),
    // auth_providers
    UniqueHash(TableId::auth_providers, "auth_providers_provider")
        .On(auth_providers::provider_type)
        .On(auth_providers::provider_id),
    Grouped(TableId::auth_providers, "auth_providers_by_user").On(auth_providers::user_id),
    // room_categories, tags
    UniqueHash(TableId::room_categories, "room_categories_name").On(room_categories::name).Folded(),
    UniqueHash(TableId::tags, "tags_name").On(tags::name).Folded(),
    // rooms
    UniqueHash(TableId::rooms, "rooms_room_code").On(rooms::room_code),
    Ordered(TableId::rooms, "rooms_by_status")
        .On(rooms::status)
        .Desc(rooms::created_at)
        .Where(IsNull(rooms::deleted_at)),
    Ordered(TableId::rooms, "rooms_live_by_tag")
        .On(rooms::tags)
        .Desc(rooms::started_at)
        .Where(Equals(rooms::status, RoomStatus::LIVE))
        .Where(Equals(rooms::is_public, 1))
        .Where(IsNull(rooms::deleted_at)),
    Grouped(TableId::rooms, "rooms_by_owner").On(rooms::owner_id),
    Grouped(TableId::rooms, "rooms_by_category")
        .On(rooms::category_id)
        .Where(NotNull(rooms::category_id)),
    // room_participants
    Grouped(TableId::room_participants, "participants_present_by_user")
        .On(room_participants::user_id)
        .Where(IsNull(room_participants::left_at)),
    // Present participants (left_at null) first, in join order: R2 reads the
    // front of the room's group, R6 the whole group.
    Grouped(TableId::room_participants, "participants_by_room")
        .On(room_participants::room_id)
        .On(room_participants::left_at),
    UniqueHash(TableId::room_participants, "participants_banned")
        .On(room_participants::room_id)
        .On(room_participants::user_id)
        .Where(Equals(room_participants::is_banned, 1)),
    Ordered(TableId::room_participants, "participants_mute_expiry")
        .On(room_participants::mute_expires_at)
        .Where(NotNull(room_participants::mute_expires_at)),
    Ordered(TableId::room_participants, "participants_ban_expiry")
        .On(room_participants::ban_expires_at)
        .Where(NotNull(room_participants::ban_expires_at))
        .Where(Equals(room_participants::is_banned, 1)),
    // call_sessions
    Grouped(TableId::call_sessions, "call_sessions_by_participant")
        .On(call_sessions::participant_id),
    Grouped(TableId::call_sessions, "call_sessions_open")
        .On(call_sessions::room_id)
        .Where(IsNull(call_sessions::ended_at)),
    // recordings
    UniqueHash(TableId::recordings, "recordings_storage_key").On(recordings::storage_key),
    Ordered(TableId::recordings, "recordings_expiry")
        .On(recordings::expires_at)
        .Where(NotNull(recordings::expires_at))
        .Where(IsNull(recordings::deleted_at)),
    Grouped(TableId::recordings, "recordings_by_owner").On(recordings::owner_id),
    Grouped(TableId::recordings, "recordings_by_room").On(recordings::room_id),
    // audit_logs
    Grouped(TableId::audit_logs, "audit_by_room")
        .On(audit_logs::room_id)
        .Desc(audit_logs::timestamp)
        .Where(NotNull(audit_logs::room_id)),
    Grouped(TableId::audit_logs, "audit_by_user")
        .On(audit_logs::user_id)
        .Desc(audit_logs::timestamp)
        .Where(NotNull(audit_logs::user_id)),
    // moderation_actions
    Grouped(TableId::moderation_actions, "moderation_by_target")
        .On(moderation_actions::target_user_id)
        .Desc(moderation_actions::created_at),
    Ordered(TableId::moderation_actions, "moderation_expiry")
        .On(moderation_actions::expires_at)
        .Where(NotNull(moderation_actions::expires_at))
        .Where(IsNull(moderation_actions::revoked_at))
        .Where(IsNull(moderation_actions::lifted_at)),
    // wallets
    UniqueHash(TableId::wallets, "wallets_user_currency")
        .On(wallets::user_id)
        .On(wallets::currency)
        .Where(NotNull(wallets::user_id)),
    UniqueHash(TableId::wallets, "wallets_system")
        .On(wallets::kind)
        .On(wallets::currency)
        .Where(NotEquals(wallets::kind, WalletKind::USER)),
    // transactions
    UniqueHash(TableId::transactions, "transactions_idempotency_key")
        .On(transactions::idempotency_key)
        .Where(NotNull(transactions::idempotency_key)),
    Grouped(TableId::transactions, "transactions_by_debit_wallet")
        .On(transactions::debit_wallet_id)
        .Desc(transactions::created_at),
    Grouped(TableId::transactions, "transactions_by_credit_wallet")
        .On(transactions::credit_wallet_id)
        .Desc(transactions::created_at),
    UniqueHash(TableId::transactions, "transactions_reversal_of")
        .On(transactions::reverses_id)
        .Where(NotNull(transactions::reverses_id)),
    Ordered(TableId::transactions, "transactions_pending_timeout")
        .On(transactions::timeout_at)
        .Where(NotNull(transactions::timeout_at))
        .Where(Equals(transactions::status, TransferStatus::PENDING)),
    // fee_schedule, premium
    Grouped(TableId::fee_schedule, "fee_schedule_by_type")
        .On(fee_schedule::transfer_type)
        .Desc(fee_schedule::effective_from),
    UniqueHash(TableId::premium_features, "premium_features_code").On(premium_features::code),
    Grouped(TableId::premium_purchases, "premium_purchases_by_user").On(premium_purchases::user_id),
    Ordered(TableId::premium_purchases, "premium_purchases_expiry")
        .On(premium_purchases::expires_at)
        .Where(NotNull(premium_purchases::expires_at))
        .Where(Equals(premium_purchases::status, PurchaseStatus::ACTIVE)),
    // notifications
    Grouped(TableId::notifications, "notifications_by_recipient")
        .On(notifications::recipient_id)
        .Desc(notifications::created_at)
        .Where(IsNull(notifications::deleted_at)),
    Ordered(TableId::notifications, "notifications_invitations")
        .On(notifications::room_id)
        .On(notifications::recipient_id)
        .Where(Equals(notifications::kind, NotificationKind::ROOM_INVITATION))
        .Where(IsNull(notifications::deleted_at)),
    // system_events
    Ordered(TableId::system_events, "system_events_by_time").On(system_events::occurred_at),
};

inline constexpr size_t kIndexCount = std::size(kIndexes);

// The position of the index named `name` in kIndexes; a typo fails to compile.
consteval size_t IndexNo(std::string_view name) {
  for (size_t i = 0; i < kIndexCount; ++i) {
    if (kIndexes[i].name == name) return i;
  }
  throw "no index with that name";
}

}  // namespace vox

#endif  // VOXDB_SCHEMA_TABLES_H_
