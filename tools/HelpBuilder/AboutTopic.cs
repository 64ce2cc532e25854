using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Markdig.Extensions.Tables;
using Markdig.Syntax;

namespace ClusterDR.HelpBuilder
{
    /// <summary>
    /// An about_ page as the plain text Get-Help shows verbatim: TOPIC, then each # heading at the margin,
    /// ## headings underlined, text wrapped and indented four columns, code indented eight.
    /// </summary>
    public static class AboutTopic
    {
        private const int Width = 80, Indent = 4;
        private static readonly PlainText Text = new PlainText(urls: true);

        public static string Render(string markdown)
        {
            var sb = new StringBuilder();
            bool topicSeen = false, afterHeading = false;
            foreach (var block in Markdown.Parse(markdown))
            {
                if (block is HeadingBlock h)
                {
                    string heading = Text.Inline(h.Inline);
                    if (heading.StartsWith("about_", StringComparison.Ordinal)) { sb.Append("TOPIC\n").Append(' ', Indent).Append(heading).Append('\n'); topicSeen = true; }
                    // PlatyPS puts the module's name above the topic as a title: the TOPIC line says it already.
                    else if (!topicSeen) continue;
                    else if (h.Level == 1) sb.Append('\n').Append(heading).Append('\n');
                    else sb.Append('\n').Append(' ', Indent).Append(heading).Append('\n').Append(' ', Indent).Append('-', heading.Length).Append('\n');
                    afterHeading = true;
                    continue;
                }
                int indent = block is CodeBlock ? 2 * Indent : Indent;
                if (!afterHeading) sb.Append('\n');
                afterHeading = false;
                foreach (var line in Text.Lines(block, Width - indent))
                    sb.Append(line.Length == 0 ? "" : new string(' ', indent) + line).Append('\n');
            }
            return sb.ToString();
        }

        /// <summary>The first column of the page's tables headed "Cmdlet": the cmdlets the topic presents.</summary>
        public static IReadOnlyList<string> TableCmdlets(string markdown) =>
            Markdown.Parse(markdown).Descendants<Table>()
                .Select(t => t.OfType<TableRow>().Select(r => Text.Inline((r.OfType<TableCell>().FirstOrDefault()?.FirstOrDefault() as ParagraphBlock)?.Inline)).ToList())
                .Where(column => column.Count > 0 && column[0] == "Cmdlet")
                .SelectMany(column => column.Skip(1)).ToList();
    }
}
