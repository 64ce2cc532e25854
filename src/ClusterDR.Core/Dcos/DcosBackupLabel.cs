using System.Text.RegularExpressions;

namespace ClusterDR.Dcos
{
    /// <summary>The backup service's label rule (3–25 characters of [A-Za-z0-9_.-], not starting with "..") and ids of the form &lt;label&gt;-&lt;uuid&gt;.</summary>
    public static class DcosBackupLabel
    {
        private static readonly Regex Allowed = new Regex("^[A-Za-z0-9_.-]{3,25}\\z", RegexOptions.CultureInvariant);
        private static readonly Regex IdShape = new Regex("^(?<label>.+)-[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\\z", RegexOptions.CultureInvariant);

        public static bool IsValid(string label) => label != null && Allowed.IsMatch(label) && !label.StartsWith("..", System.StringComparison.Ordinal);

        public static void Validate(string label)
        {
            if (IsValid(label)) return;
            throw new ClusterDrException(ErrorIds.InvalidBackupLabel, ErrorKind.InvalidArgument,
                $"'{label}' is not a DC/OS backup label: use 3 to 25 characters of A-Z, a-z, 0-9, '_', '.' and '-', not starting with '..'.", label);
        }

        /// <summary>The label part of a backup id, or null when the id is not &lt;label&gt;-&lt;uuid&gt;.</summary>
        public static string FromId(string id)
        {
            var m = id == null ? null : IdShape.Match(id);
            return m != null && m.Success ? m.Groups["label"].Value : null;
        }
    }
}
