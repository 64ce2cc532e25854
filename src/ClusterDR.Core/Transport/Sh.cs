using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace ClusterDR.Transport
{
    /// <summary>Quoting for POSIX sh scripts and for the Windows-style argument strings .NET's Process parses.</summary>
    public static class Sh
    {
        /// <summary>Single-quotes a value for sh: the only safe way to put a path or name into a script.</summary>
        public static string Quote(string value)
        {
            if (value == null) return "''";
            if (value.Length > 0 && value.All(c => char.IsLetterOrDigit(c) || "@%+=:,./_-".IndexOf(c) >= 0)) return value;
            return "'" + value.Replace("'", "'\"'\"'") + "'";
        }

        public static string Join(IEnumerable<string> words) => string.Join(" ", words.Select(Quote));

        /// <summary>
        /// Builds ProcessStartInfo.Arguments so that the child sees exactly <paramref name="args"/>
        /// (netstandard2.0 has no ArgumentList; .NET parses this string the same way on every OS).
        /// </summary>
        public static string ProcessArguments(IEnumerable<string> args)
        {
            var sb = new StringBuilder();
            foreach (var arg in args)
            {
                if (sb.Length > 0) sb.Append(' ');
                if (arg.Length > 0 && arg.IndexOfAny(new[] { ' ', '\t', '\n', '"', '\\' }) < 0) { sb.Append(arg); continue; }
                sb.Append('"');
                int backslashes = 0;
                foreach (char c in arg)
                {
                    if (c == '\\') { backslashes++; continue; }
                    if (c == '"') { sb.Append('\\', backslashes * 2 + 1).Append('"'); backslashes = 0; continue; }
                    sb.Append('\\', backslashes).Append(c);
                    backslashes = 0;
                }
                sb.Append('\\', backslashes * 2).Append('"');
            }
            return sb.ToString();
        }
    }
}
