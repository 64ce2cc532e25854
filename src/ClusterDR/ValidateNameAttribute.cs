using System.Management.Automation;
using System.Text.RegularExpressions;

namespace ClusterDR.Commands
{
    /// <summary>
    /// A label or cluster name that becomes part of a backup's file name: 1 to 64 of A-Z a-z 0-9 _ . -.
    /// ValidatePattern would say "does not match the ^[A-Za-z0-9_.-]{1,64}$ pattern" and PowerShellStandard 5.1
    /// has no ValidatePatternAttribute.ErrorMessage, so this check says what is allowed in a sentence.
    /// </summary>
    public sealed class ValidateBackupNameAttribute : ValidateEnumeratedArgumentsAttribute
    {
        private static readonly Regex Allowed = new Regex("^[A-Za-z0-9_.-]{1,64}\\z", RegexOptions.CultureInvariant);

        protected override void ValidateElement(object element)
        {
            string value = element?.ToString();
            if (value != null && Allowed.IsMatch(value)) return;
            throw new ValidationMetadataException(
                $"'{value}' cannot be part of a backup's file name: use 1 to 64 letters, digits, '_', '.' or '-' (no spaces or slashes).");
        }
    }
}
