using System;

namespace ClusterDR
{
    /// <summary>
    /// The one exception the engine throws on purpose. The cmdlet layer turns it into an
    /// ErrorRecord with <see cref="ErrorId"/> as the stable FullyQualifiedErrorId, so scripts can
    /// catch by id instead of parsing messages. Messages never carry secrets.
    /// </summary>
    public class ClusterDrException : Exception
    {
        /// <param name="surfaceAsIs">See <see cref="SurfaceAsIs"/>; set where the error is raised.</param>
        /// <param name="recommendedAction">See <see cref="RecommendedAction"/>; set where the error is raised.</param>
        public ClusterDrException(string errorId, ErrorKind kind, string message, object target = null, Exception inner = null, bool surfaceAsIs = false,
            string recommendedAction = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Kind = kind;
            Target = target;
            SurfaceAsIs = surfaceAsIs;
            RecommendedAction = recommendedAction;
        }

        public string ErrorId { get; }
        public ErrorKind Kind { get; }
        public object Target { get; }

        /// <summary>
        /// This error is the operator's answer (wrong or missing input, a refused credential, damaged data, a busy
        /// service): whatever runs the failing step (a Safety plan) surfaces its ErrorId and kind as they are
        /// instead of wrapping it as its own &lt;Operation&gt;Failed, so a script can act on it. False: the cause of
        /// a failed operation, wrapped as the operation's failure with this exception as InnerException.
        /// </summary>
        public bool SurfaceAsIs { get; }

        /// <summary>
        /// What the operator can do, as one sentence (the ErrorRecord's ErrorDetails.RecommendedAction): set on
        /// refusals such as QuorumAtRisk or ClusterHealthy, which name their override; null when there is no advice.
        /// </summary>
        public string RecommendedAction { get; }
    }

    /// <summary>Mirrors the subset of PowerShell's ErrorCategory the engine needs, without referencing it.</summary>
    public enum ErrorKind
    {
        NotSpecified,
        InvalidArgument,
        InvalidData,
        InvalidOperation,
        ObjectNotFound,
        ResourceExists,
        ResourceUnavailable,
        ConnectionError,
        SecurityError,
        PermissionDenied,
        OperationStopped,
        OperationTimeout,
        NotImplemented,
        WriteError,
    }

    /// <summary>Stable error ids. Documented in about_ClusterDR; never rename one.</summary>
    public static class ErrorIds
    {
        public const string QuorumAtRisk = "QuorumAtRisk";
        public const string ClusterHealthy = "ClusterHealthy";
        public const string ClusterStateUnknown = "ClusterStateUnknown";
        public const string MemberHealthy = "MemberHealthy";
        public const string MemberNotFound = "MemberNotFound";
        public const string BackupNotFound = "BackupNotFound";
        public const string BackupExists = "BackupExists";
        public const string ArchiveCorrupt = "ArchiveCorrupt";
        public const string ManifestInvalid = "ManifestInvalid";
        public const string PayloadHashMismatch = "PayloadHashMismatch";
        public const string PayloadMissing = "PayloadMissing";
        public const string PayloadSizeMismatch = "PayloadSizeMismatch";
        public const string UnexpectedEntry = "UnexpectedArchiveEntry";
        public const string UnsafeArchiveEntry = "UnsafeArchiveEntry";
        public const string WrongBackupKind = "WrongBackupKind";
        public const string SnapshotHashMismatch = "EtcdSnapshotHashMismatch";
        public const string EndpointUnreachable = "EndpointUnreachable";
        public const string EndpointError = "EndpointError";
        public const string Unauthorized = "Unauthorized";
        public const string Forbidden = "Forbidden";
        public const string RemoteCommandFailed = "RemoteCommandFailed";
        public const string HostKeyVerificationFailed = "HostKeyVerificationFailed";
        public const string SshConnectionFailed = "SshConnectionFailed";
        public const string SshSessionUnsupported = "SshSessionUnsupported";
        public const string InvalidNode = "InvalidNode";
        public const string InvalidMember = "InvalidMember";
        public const string TlsConfiguration = "TlsConfigurationInvalid";
        public const string RestoreFailed = "RestoreFailed";
        public const string RepairFailed = "RepairFailed";
        public const string BackupFailed = "BackupFailed";
        public const string RevisionMismatch = "RevisionMismatch";
        public const string WaitTimedOut = "WaitTimedOut";
        public const string MultipleBackups = "MultipleBackupsForRestore";
        public const string NoBackupGiven = "NoBackupGiven";
        public const string OperationDeclined = "OperationDeclined";
        public const string InvalidBackupLabel = "InvalidBackupLabel";
        public const string BackupServiceBusy = "BackupServiceBusy";
        public const string DcosBackupNotFound = "DcosBackupNotFound";
        public const string DcosBackupNotReady = "DcosBackupNotReady";
        public const string DcosBackupFailed = "DcosBackupFailed";
        public const string DcosRestoreFailed = "DcosRestoreFailed";
        public const string InvalidAddress = "InvalidAddress";
        public const string EnsembleIncomplete = "EnsembleIncomplete";
        public const string DataDirMismatch = "DataDirMismatch";
        public const string ZnodeCountMismatch = "ZnodeCountMismatch";
        public const string DockerUnavailable = "DockerUnavailable";
        public const string NotASwarmManager = "NotASwarmManager";
        public const string UnlockKeyRequired = "SwarmUnlockKeyRequired";
        public const string UnlockKeyInvalid = "SwarmUnlockKeyInvalid";
        public const string AutolockOff = "SwarmAutolockOff";
        public const string SwarmObjectsMismatch = "SwarmObjectsMismatch";
        public const string NoFailoverReplica = "NoFailoverReplica";
        public const string FailoverFailed = "FailoverFailed";
        public const string S3AccessDenied = "S3AccessDenied";
        public const string S3Error = "S3Error";
        public const string StoreNotEmpty = "DeisStoreNotEmpty";
        public const string S3ObjectMismatch = "S3ObjectMismatch";
        public const string CredentialsUnavailable = "DeisStoreCredentialsUnavailable";
        // Backup stores (S3 buckets, Azure Blob containers): the same ids whichever store answers.
        /// <summary>The store refused the credential (wrong key, expired SAS or token, no permission).</summary>
        public const string StoreAccessDenied = "BackupStoreAccessDenied";
        /// <summary>The bucket or container does not exist.</summary>
        public const string StoreNotFound = "BackupStoreNotFound";
        /// <summary>No answer from the store's endpoint (DNS, connection refused, timeout).</summary>
        public const string StoreUnreachable = "BackupStoreUnreachable";
        /// <summary>The store is full or over its quota.</summary>
        public const string StoreQuotaExceeded = "BackupStoreQuotaExceeded";
        /// <summary>No credential was given and none of the store's standard sources (environment, profile) has one.</summary>
        public const string StoreCredentialsMissing = "BackupStoreCredentialsMissing";
        /// <summary>More than one credential was given for one store.</summary>
        public const string StoreCredentialsAmbiguous = "BackupStoreCredentialsAmbiguous";
        /// <summary>Any other refusal by the store; the message carries its error code.</summary>
        public const string StoreError = "BackupStoreError";
        /// <summary>Any exception the engine did not turn into one of the ids above: a bug.</summary>
        /// <summary>An encrypted backup was read without -DecryptionKeyFile, -DecryptionKey or -Passphrase.</summary>
        public const string BackupKeyRequired = "BackupKeyRequired";
        /// <summary>None of the identities (or the passphrase) given opens the backup.</summary>
        public const string BackupKeyMismatch = "BackupKeyMismatch";
        /// <summary>A recipient, identity file or passphrase given is not usable (not age1..., AGE-SECRET-KEY-1..., empty).</summary>
        public const string EncryptionKeyInvalid = "EncryptionKeyInvalid";
        /// <summary>New-ClusterBackupKey could not write the identity file (no such drive, no permission).</summary>
        public const string KeyFileNotWritten = "BackupKeyFileNotWritten";
        /// <summary>A retention policy that keeps nothing, or is contradictory.</summary>
        public const string RetentionPolicyInvalid = "RetentionPolicyInvalid";
        /// <summary>A rehearsal restored the backup into a throwaway server that did not serve what the backup recorded.</summary>
        public const string RehearsalFailed = "RehearsalFailed";
        /// <summary>A program a rehearsal runs (etcd, java and ZooKeeper's jars, dockerd, PostgreSQL) is not installed.</summary>
        public const string RehearsalToolMissing = "RehearsalToolMissing";
        /// <summary>This kind of backup, or this machine, cannot rehearse (DC/OS backups, Swarm without root, not Linux).</summary>
        public const string RehearsalUnsupported = "RehearsalUnsupported";
        /// <summary>A rehearsal could not write its temp dir (full, no permission): the backup was not judged.</summary>
        public const string RehearsalScratchFailed = "RehearsalScratchFailed";
        public const string UnexpectedError = "UnexpectedError";
    }
}
