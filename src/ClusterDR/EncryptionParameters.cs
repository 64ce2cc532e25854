using System.Collections.Generic;
using System.Security;
using ClusterDR.Encryption;

namespace ClusterDR
{
    /// <summary>
    /// -Recipient/-Passphrase on the Backup- cmdlets and -DecryptionKeyFile/-DecryptionKey/-Passphrase on the cmdlets that read
    /// backups, with the same meaning everywhere. A secret becomes text here, at the moment the engine needs it, and
    /// never reaches a message.
    /// </summary>
    internal static class EncryptionParameters
    {
        /// <summary>What a Backup- cmdlet encrypts to; null when neither was given.</summary>
        public static AgeEncryption Encryption(string[] recipient, SecureString passphrase)
        {
            if (recipient != null && passphrase != null)
                throw new ClusterDrException(ErrorIds.EncryptionKeyInvalid, ErrorKind.InvalidArgument,
                    "Give -Recipient or -Passphrase, not both: the age format allows no recipient beside a passphrase.");
            if (passphrase != null) return AgeEncryption.WithPassphrase(Secrets.Plain(passphrase));
            if (recipient == null) return null;
            return AgeEncryption.ToRecipients(AgeRecipient.ParseAll(recipient));
        }

        /// <summary>The keys a reading cmdlet was given; null when none (an encrypted backup is then BackupKeyRequired).</summary>
        public static AgeKeyring Keyring(Commands.ClusterDrCmdlet cmdlet, string[] identityFile, SecureString identity, SecureString passphrase)
        {
            if (identityFile == null && identity == null && passphrase == null) return null;
            var ids = new List<AgeIdentity>();
            foreach (var f in identityFile ?? new string[0]) ids.AddRange(AgeKeyring.ReadIdentityFile(cmdlet.ResolveFileSystemPath(f)));
            if (identity != null) ids.AddRange(AgeIdentity.ParseFile(Secrets.Plain(identity), "-DecryptionKey"));
            return new AgeKeyring(ids, Secrets.Plain(passphrase));
        }
    }
}
