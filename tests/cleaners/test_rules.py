"""Cleaner rules, table-driven: real-looking debris goes with its rule's name, near-miss body lines stay."""

from __future__ import annotations

import pytest

from cleaners import clean_article
from cleaners.patterns import builtin_catalogue

# Two real-looking body paragraphs to give every probe line a body around it.
P1 = ("The city council voted on Tuesday to extend the harbour ferry service to the northern suburbs, "
      "a decision that will add three new stops and about 4,000 daily passengers by next summer.")
P2 = ("Officials said the extension would cost about 12 million pounds, paid for mostly by a regional "
      "transport grant, and that construction of the new piers would start in the spring.")
P3 = ("Residents of the northern suburbs have campaigned for a ferry link for more than a decade, "
      "arguing that the only bus route into the city centre is slow and often overcrowded.")


def removed_reason(line: str, where: str = "middle") -> str | None:
    """Clean an article with `line` placed in the middle (or at the end) of a body; its removal reason."""
    blocks = [P1, line, P2, P3] if where == "middle" else [P1, P2, P3, line]
    res = clean_article(blocks, title="Ferry service to be extended")
    idx = blocks.index(line)
    hits = [r.reason for r in res.removed if r.position == idx]
    return hits[0] if hits else None


DEBRIS = [
    ("share_bar", "Digg This!"), ("share_bar", "Copy Link URLCopied!"),
    ("lazy_load", "Loading..."), ("lazy_load", "Loading comments…"), ("lazy_load", "Please wait..."),
    ("widget_label", "Route 6"), ("widget_label", "Play Video"), ("widget_label", "1 of 12"),
    ("read_more", "READ MORE: Secret documents reveal how detention camps work"),
    ("read_more", "READ MORE:\u00a0US has no evidence China releasing prisoners - ambassador"),
    ("read_more", "Read more: Council tax to rise by 5%"), ("read_more", "See also: How the budget vote unfolded"),
    ("read_more", "Also on Portside: Ten walks along the coast"), ("read_more", "Watch: Ferry arrives at the new pier"), ("read_more", "More: Harbour bridge closures"),
    ("read_more", "Next: Harbour bridge closures"), ("read_more", "Next article » Ferry fares to rise"),
    ("read_more", "Previous story"), ("read_more", "Previously on Portside"),
    ("widget_label", "Caption"), ("widget_label", "Enlarge This Image"), ("widget_label", "Resize text"),
    ("widget_label", "Report error"), ("widget_label", "Copied!"), ("widget_label", "Scroll down for video"),
    ("advertising", "Article continues"), ("advertising", "Story continues below"),
    ("advertising", "Advertise on Portside"),
    ("share_bar", "Send to friend"), ("share_bar", "Add to del.icio.us"), ("share_bar", "Share Tweet Email"),
    ("share_bar", "Would you recommend this?"), ("share_bar", "Want more stories like this? Sign up here."),
    ("newsletter_plug", "Free newsletter. Sign up now!"), ("newsletter_plug", "Already a member? Login now."),
    ("newsletter_plug", "No spam, we promise. You can unsubscribe at any time."),
    ("newsletter_plug", "Free trial. Read the complete edition on your computer, just as it appears in print."),
    ("newsletter_plug", "An email with an activation link has just been sent to your email address."),
    ("newsletter_plug", "Get the Harbour Monthly delivered through your letterbox every month."),
    ("advertising", "Portside Gazette may earn a commission from products featured on this page."),
    ("advertising", "If you buy something through this post, we may get a share of the sale."),
    ("copyright", "This document is subject to copyright. Apart from any fair dealing no part may be reproduced."),
    ("copyright", "Portside Gazette™ is a trade mark of Harbour Newspapers Limited."),
    ("copyright", "A publication by the Harbour Publishing Group."), ("copyright", "Why you can trust Portside News"),
    ("cookie_notice", "Please read our terms and conditions and privacy statement before using this site."),
    ("cookie_notice", "This site is protected by reCAPTCHA and the Google Privacy Policy and Terms of Service apply."),
    ("widget_label", "Media playback is unsupported on your device"),
    ("newsletter_plug", "You have successfully subscribed. Thank you!"),
    ("newsletter_plug", "Keep an eye on your inbox for the latest harbour news."),
    ("newsletter_plug", "Every day we send an email with the top stories from the Gazette."),
    ("newsletter_plug", "For complete area coverage pick up a newspaper copy at a store near you."),
    ("newsletter_plug", "Get a $50 free bet and a better betting experience with Harbourbet."),
    ("share_bar", "Sign In to E-Mail or Save This"), ("share_bar", "Buy a copy of this picture."),
    ("share_bar", "E-mail article Print-friendly Subscribe to RSS feed"), ("share_bar", "Post to Del.icio.us"),
    ("share_bar", "Technorati"), ("newsletter_plug", "Sign up now!"), ("copyright", "Published by"),
    ("widget_label", "Click here to enlarge."), ("widget_label", "Thanks for watching! Visit website"),
    ("read_more", "On PortsideGazette.com: Ferry fares to rise in May"), ("read_more", "Also: See our ferry coverage"),
    ("read_more", "Ferry review: my new favourite way to work [Video]"),
    ("read_more", "Go to The Harbour Blog »"), ("read_more", "Ferry news and analysis from the staff of the Gazette."),
    ("newsletter_plug", "Let our news meet your inbox. The stories that matter, delivered weekday mornings."),
    ("newsletter_plug", "Do you rely on our reporting? Click here to support it."),
    ("newsletter_plug", "CLICK HERE TO GET THE GAZETTE APP"),
    ("photo_caption", "This March 28, 2017, file photo, provided by the harbour authority, shows the old pier."),
    ("photo_caption", "In this Nov. 5, 2019 photo, a ferry leaves the northern pier."),
    ("photo_caption", "This illustration shows a concept of the new ferry terminal."),
    ("photo_caption", "The mayor, left, and the harbour master are seen in this combined image."),
    ("photo_caption", "A passenger took this image of the ferry leaving the northern pier on Monday."),
    ("share_bar", "Blog This"), ("share_bar", "Recommend Don't Recommend"),
    ("copyright", "All rights reserved."),
    ("reporter_credit", "Gazette writer Jane Roe contributed to this report."),
    ("reporter_credit", "Jane Roe in Portside contributed to the reporting of this story."),
    ("reporter_credit", "News reporter @JaneRoe1"), ("cookie_notice", "on this site, please read our Privacy Policy."),
    ("share_bar", "From here you can save the story to a social bookmarking site."), ("share_bar", "Add RSS Feeds"),
    ("copyright", "No part of this site should be used in any other media without prior permission."),
    ("newsletter_plug", "Gazette News is now available on your cellphone."),
    ("newsletter_plug", "Get breaking harbour news and the latest updates on ferries and more!"),
    ("newsletter_plug", "Need more ferries? Subscribe to our sister title Harbour Monthly for the latest news."),
    ("newsletter_plug", "Join our Harbour Forums to keep talking ferries!"),
    ("newsletter_plug", "Want online access to the Gazette? Click here to subscribe."),
    ("widget_label", "To find reference information about the words used in this article, double-click on any word."),
    ("share_bar", "Font Scale: A A A"),
    ("share_bar", "A A A"), ("share_bar", "Storm photo gallery Email to a friend Printer friendly"),
    ("read_more", "« Ferry fares to rise in May | Main | Council tax vote »"),
    ("related_header", "Related Articles"), ("related_header", "You may also like"), ("related_header", "Recommended"),
    ("related_header", "Read on:"), ("related_header", "Você pode gostar..."), ("related_header", "Читайте также:"),
    ("share_bar", "Like this article?"), ("share_bar", "Enjoyed this story? Share it with your friends"),
    ("share_bar", "Share this article"), ("share_bar", "email this page | digg | reddit"),
    ("share_bar", "Follow us on Twitter and Facebook"), ("share_bar", "Print this article"),
    ("newsletter_plug", "Sign up to our daily newsletter for the latest news, delivered to your inbox."),
    ("newsletter_plug", "Subscribe now for unlimited access"),
    ("advertising", "Advertisement"), ("advertising", "Story continues below advertisement"),
    ("advertising", "Sponsored Content"),
    ("cookie_notice", "We use cookies to improve your experience. By continuing you agree to our cookie policy."),
    ("copyright", "© 2024 Portside Gazette. All rights reserved."),
    ("copyright", "Copyright 2008 The Associated Press. This material may not be published or broadcast."),
    ("reporter_credit", "(Reporting by Sam Lindqvist; Editing by Ruth Adeyemi)"),
    ("reporter_credit", "Contact the reporter at sam.lindqvist@example.com"),
    ("markup", '&lt;a href="http://ads.example.com/click.ng/site=News" target="_blank"&gt;&lt;img src="x.gif"&gt;'),
    ("markup", '<noscript><a href="http://adserver.example.com/?adlink|2.0|257"><img src="a.gif"></a></noscript>'),
    ("newsletter_plug", "Please create an account or login to read this story"),
    ("newsletter_plug", "To read this article in full you must be registered with the site."),
    ("link_list", "Home | News | Sport | Weather | Business"),
    ("no_letters", "| | |"),
]


@pytest.mark.parametrize("reason,line", DEBRIS)
def test_debris_line_is_removed_by_its_rule(reason, line):
    assert removed_reason(line) == reason


@pytest.mark.parametrize("reason,line", [
    ("comment_section", "Leave a Reply"), ("comment_section", "0 comments"), ("comment_section", "Comments are closed."),
    ("comment_section", "Join the discussion"), ("comment_section", "Comments"),
    ("navigation", "Home > News > World"), ("navigation", "Skip to main content"),
    ("click_here", "Click here to view the gallery"),
    ("comment_section", "Lascia un commento"), ("comment_section", "Deja una respuesta"),
    ("comment_section", "Cancel reply"), ("comment_section", "Добавить отзыв"),
    ("navigation", "In This Article: ferries, harbour, council"),
    ("comment_section", "The following are comments from the readers. They do not represent the paper's view."),
    ("comment_section", "As you comment, please be respectful of other commenters."),
    ("comment_section", "Do you have comments on this story?"),
    ("comment_section", "Commenting is turned off for this blog."),
    ("comment_section", "Comment(s)"), ("comment_section", "You must Login or Register to post."),
    ("comment_section", "Note: we are temporarily moderating all comments submitted to deal with spam."),
    ("author_bio", "Jane Roe is a freelance writer based in Toronto. Her work has appeared in many papers."),
    ("author_bio", "Jane joined the Gazette in March 2017. She has been reporting on the harbour since."),
    ("author_bio", "Email Jane Roe at jroe@example.com or follow her on Twitter."),
    ("author_bio", "Jane covers the harbour for the Gazette and hosts its weekly podcast."),
    ("author_bio", "Über Jane Roe"),
    ("author_bio", "Gazette Sports Writer"),
    ("newsletter_plug", "Welcome to the Gazette's Daily Deals, your source for the best deals on ferry gear."),
    ("newsletter_plug", "Get the day's big stories and fun stuff you love, every morning."),
    ("newsletter_plug", "Gazette.com announces the start of the news alerts free service."),
    ("newsletter_plug", "Came straight to this page? Visit www.gazette.example for all the latest news."),
    ("newsletter_plug", "Gazette headlines delivered to your favorite RSS reader."),
    ("newsletter_plug", "Submit your Pics: Upload photos and browse others in our Pics section."),
    ("newsletter_plug", "Latest ferry race odds, and a free £20 bet courtesy of Harbourbet"),
    ("read_more", "Leggi anche su: il nuovo traghetto per il porto"),
    ("author_bio", "Jane Roe (jane@example.com) is the editor and publisher of the Gazette and a senior writer."),
    ("photo_caption", "Jane Roe, governor of the province, pictured at the pier opening in 2018."),
    ("comment_section", "We'd like your thoughts on this story. Please keep them civil."),
    ("navigation", "タグ: ソフトウェア"),
])
def test_edge_and_section_rules_at_the_end(reason, line):
    assert removed_reason(line, where="end") == reason


NEAR_MISSES = [
    "Who is sanctioned?",  # a section heading
    "Repression of minorities",
    "\"We will not back down,\" she said.",  # a one-line quote
    "Loading the ferries took longer than usual on Tuesday because of the wind.",
    "Readers wrote in to say the new timetable was confusing.",
    "The route 6 bus will be withdrawn when the ferry opens, the operator said.",
    "Share prices of the operator rose 3 per cent after the announcement.",
    "Follow-up inspections will take place every six months, the council said.",
    "Comments from residents were overwhelmingly positive, according to the survey.",
    "WASHINGTON (Reuters) - The US said on Friday it would review the agreement.",
    "More than 200 people attended the public meeting in the town hall.",
    "Advertisement revenue at the local paper fell by a third last year.",
    "Click, the ferry company's mascot, will greet passengers at the new piers.",
    "Readers who log in to the council website can now book ferry tickets a month ahead.",
    "The ad agency said the div between the two campaigns was smaller than expected.",
    "Read on to find out how the new ferry timetable will affect your commute.",
    "Did you like the old ferry? Most residents said they did, according to the survey.",
    "The plans submitted photos of the new piers to the council for approval last week.",
    "Next steps for the ferry link will be set out at a council meeting on Friday.",  # a sentence, not a teaser
    "Previous attempts to open a ferry link failed for lack of money.",
    "Article continues to draw criticism from residents, the council said.",
    "Captions on the new signs will be in three languages.",
    "Report errors in the timetable to the operator by phone, the council said.",
    "Share prices, tweets and emails all showed strong interest in the ferry.",
    "Free newsletters will be sent to every household on the route.",
    "Free trial runs of the new ferry will begin next week, the operator said.",
    "The operator may earn more from the northern route than from the old one, analysts said.",
    "Bookmakers offered free bets on the date of the first crossing, the regulator said.",
    "Residents who read our survey said the terms of the new contract were unfair.",
    "The council said a publication of the full report would follow in March.",
    "This shows the council is serious about the ferry, the mayor said.",
    "In this case, the photo was taken by a passenger and shared with the operator.",
    "Also, the council said the ferry would run on public holidays.",
    "Want access to the pier? The council says you will need a permit from next month.",
    "No part of this plan was discussed with residents, the campaigners said.",
    "Go to the council meeting on Tuesday if you want to be heard, the mayor said.",
    "The man pictured in the video has not been found, police said.",
    "Police asked residents to submit photos of the crash to the incident line.",
    "Moderators will review the comments before the council meeting, the clerk said.",
    "By the end of the year on Monday 5 ferries will run, the council said.",
    "The ferries are seen in this town as a lifeline, the mayor said.",
]


def test_a_last_paragraph_that_lost_its_full_stop_stays_like_a_lede_that_did():
    tail = "Two other operators are three months behind the council in a tie for the northern route contract"
    assert clean_article([P1, P2, P3, tail, "Share this article"], title="x").blocks == [P1, P2, P3, tail]
    # a title-cased headline below the body is not running text
    assert clean_article([P1, P2, P3, "Harbour Council Votes To Extend The Ferry To The Northern Suburbs Next Summer"],
                         title="x").blocks == [P1, P2, P3]


def test_a_line_of_numbers_is_no_paragraph_however_long():
    """A line of 30 words or more is body text even without a full stop, unless most of its words are
    numbers: a row of page links ('Pages 1 2 3 ... 40', 'Go to page 1 2 ...', which no catalogue pattern takes) below
    the article is page furniture. A long paragraph that lost its full stop and carries some numbers
    stays."""
    pages = " ".join(str(i) for i in range(1, 41))
    for bar in ("Pages " + pages, "Go to page " + pages, pages + " pages"):  # nor the last paragraph that lost its stop
        res = clean_article([P1, P2, P3, bar], title="x")
        assert res.blocks == [P1, P2, P3] and [r.reason for r in res.removed] == ["page_footer"], bar
    scores = ("Results from the regional final on Saturday were close all day with Harbour 12 Northside 10 and "
              "Eastport 9 while the three other clubs in the league finished the season well behind them in the table")
    assert clean_article([P1, P2, P3, scores], title="x").blocks == [P1, P2, P3, scores]


@pytest.mark.parametrize("bar", ["1 2 3 … 18 Last »", "« Previous 1 2 3 4 5 Next »", "1 2 3 ... 40 Last",
                                 "First « 1 2 3", "1 2 … 40", "‹ Prev 1 2 3 4 5 Next Page ›"])
def test_a_pagination_bar_goes_as_navigation_in_an_extracted_article_too(bar):
    """Pagination bars with a gap or the words around the page numbers are navigation, so they go
    from text that trafilatura extracted as well (there the positional rules stand down); before,
    only '1 2 3 Next' was."""
    for extracted in (False, True):
        res = clean_article([P1, P2, P3, bar], title="x", extracted=extracted)
        assert res.blocks == [P1, P2, P3] and [r.reason for r in res.removed] == ["navigation"], (bar, extracted)


@pytest.mark.parametrize("line", ["Next week the council votes again", "Last year 12 people died",
                                  "10 last minute tips", "Top 10 Next Steps", "First 100 days", "3 killed, 2 injured"])
def test_lines_with_numbers_and_pagination_words_are_no_pagination_bar(line):
    assert clean_article([P1, line, P2, P3], title="x", extracted=True).blocks == [P1, line, P2, P3]


def test_an_author_bio_is_debris_at_the_end_and_body_between_paragraphs():
    bio = "Jane Roe is a reporter for the Gazette who has covered the harbour for ten years and lives in Quay Street."
    assert clean_article([P1, P2, P3, bio], title="x").blocks == [P1, P2, P3]
    assert clean_article([P1, bio, P2, P3], title="x").blocks == [P1, bio, P2, P3]


@pytest.mark.parametrize("line", NEAR_MISSES)
def test_near_miss_body_lines_survive(line):
    assert removed_reason(line) is None


def test_every_catalogue_example_is_removed_by_its_own_rule():
    for rule in builtin_catalogue().rules:
        assert rule.example, f"rule {rule.name} has no example"
        where = "end" if rule.where == "edge" or rule.cut == "rest" else "middle"
        assert removed_reason(rule.example, where) == rule.name, rule.name


def test_debris_at_the_edges_goes_and_headings_inside_stay():
    blocks = ["Home", "News", "World", P1, "Who is sanctioned?", P2, "Repression of minorities", P3,
              "Most popular", "Storm closes three ports", "Council tax to rise"]
    res = clean_article(blocks, title="Ferry")
    assert res.blocks == [P1, "Who is sanctioned?", P2, "Repression of minorities", P3]
    reasons = {r.position: r.reason for r in res.removed}
    assert reasons[0] == reasons[1] == reasons[2] == "navigation" or {reasons[0], reasons[1], reasons[2]} <= {
        "navigation", "page_header"}
    assert all(reasons[i] in {"related_header", "page_footer"} for i in (8, 9, 10))


def test_comment_section_cuts_everything_after_the_marker():
    comment = "I think this is a terrible waste of money and the council should be ashamed of itself today."
    res = clean_article([P1, P2, P3, "Leave a Reply", comment, comment.replace("terrible", "great")], title="x")
    assert res.blocks == [P1, P2, P3]
    assert {r.reason for r in res.removed} == {"comment_section"}


def test_a_comment_box_between_the_articles_paragraphs_goes_and_the_article_below_it_stays():
    """A 'Have your say' box printed inside the article: the marker, a reader's comment and its
    signature go; the article's last paragraphs below it, followed by the page's share bar, stay."""
    box = ["HAVE YOUR SAY", "Finally some common sense is surfacing after years of darkness.", "Sal, Harbourtown",
           "Send us your comments"]
    res = clean_article([P1, P2, P5, *box, P3, P4, "Bookmark with:", "Delicious", "Digg"], title="x")
    assert res.blocks == [P1, P2, P5, P3, P4]
    assert {r.reason for r in res.removed if r.position in range(3, 7)} == {"comment_section"}
    # comments that end the page, or come with their posters' names and dates, are the comment section
    comment = "I think this is a terrible waste of money and the council should be ashamed of itself today."
    for tail in ([comment, comment.replace("terrible", "great"), "Posted by Jo at 3:05pm on January 9, 2008"],
                 [comment, comment.replace("terrible", "great")]):
        assert clean_article([P1, P2, P5, "Comments", *tail, "Share this"], title="x").blocks == [P1, P2, P5]


def test_a_credit_above_a_labelled_caption_claims_no_paragraph_above_it():
    """The BBC prints 'Image copyright X' and then 'Image caption ...': the credit belongs to the
    caption below it, and the short body sentence above it stays."""
    short = "He has consistently denied being unfair to her."
    cap = "Image caption The ferry at dawn on its first crossing"
    res = clean_article([P1, short, "Image copyright Getty Images", cap, P2, P3], title="x")
    assert res.blocks == [P1, short, P2, P3]
    assert res.captions == ["Image copyright Getty Images", cap]
    # without the labelled caption, the short line above the credit is its caption
    res = clean_article([P1, "The ferry at dawn on its first crossing", "Getty Images", P2, P3], title="x")
    assert res.captions == ["The ferry at dawn on its first crossing", "Getty Images"]


def test_a_bracketed_term_is_no_agency_credit():
    line = "The topic with the most potential has been discussed for years: the electronic patient record (ePA)"
    assert clean_article([P1, line, P2, P3], title="x").blocks == [P1, line, P2, P3]
    cap = "The new pier at Quay Street is seen from the water on Tuesday (EPA)"
    assert clean_article([P1, cap, P2, P3], title="x").captions == [cap]


def test_a_datelined_lede_that_ends_with_a_colon_starts_the_body():
    """AP's 'The Latest' stories open with a datelined line that leads into time-stamped entries."""
    lede = "HARBOURTOWN, England (AP) — The Latest on the ferry strike at the northern piers (all times local):"
    res = clean_article(["Home", "Storm closes three ports", lede, "10 p.m.", P1, P2], title="x")
    assert res.blocks == [lede, "10 p.m.", P1, P2]
    # a capitalised menu joined by dashes is not a dateline
    menu = "HARBOUR TIMES - SPORT - BUSINESS - TRAVEL - WEATHER - JOBS - CARS - PROPERTY - CLASSIFIEDS - ARCHIVE"
    assert clean_article([menu, P1, P2], title="x").blocks == [P1, P2]


def test_a_last_paragraph_that_goes_on_overleaf_stays():
    last = ("Commuters will use the ferry to reach the northern suburbs, the port and the new business park "
            "by the river. Continued...")
    quote = "\"We want to push the boundaries of travel.\""
    res = clean_article([P1, P2, quote, last, "View article on single page", "More news", "Storm closes three ports"],
                        title="x")
    assert res.blocks == [P1, P2, quote, last]


def test_numbered_listicle_headlines_after_the_article_go_a_shopping_list_stays():
    listicles = ["27 Oddest Medical Case Reports", "10 Strangest Medical Cases", "11 Weird Things People Have Swallowed"]
    assert clean_article([P1, P2, P3, *listicles], title="x").blocks == [P1, P2, P3]
    shopping = ["3 eggs", "2 cups of flour", "1 tsp of salt"]
    assert clean_article([P1, P2, P3, *shopping], title="x").blocks == [P1, P2, P3, *shopping]


def test_a_fact_box_the_article_ends_with_stays_a_list_of_labelled_headlines_goes():
    box = ["Next game", "Who: Harbour United (10-6) at Quay Rovers (6-11)", "When: 8 p.m., Saturday",
           "Radio: WHBR-AM (980)"]
    assert clean_article([P1, P2, P3, *box, "Home", "News", "Sport"], title="x").blocks == [P1, P2, P3, *box]
    headlines = ["More in Europe", "FRANCE: Strikes close three ports", "SPAIN: Ferry fares to rise",
                 "ITALY: Harbour master retires"]
    assert clean_article([P1, P2, P3, *headlines], title="x").blocks == [P1, P2, P3]


def test_a_related_list_stops_at_a_paragraph_the_scrape_broke_across_lines():
    broken = ["Brown's basket gave Harbour United a", "76-72 lead, which left the visitors stunned."]
    res = clean_article([P1, P2, "Related Stories", "Storm closes three ports", "Council tax to rise", *broken, P3],
                        title="x")
    assert res.blocks == [P1, P2, *broken, P3]
    assert [r.reason for r in res.removed] == ["related_header"] * 3


def test_short_sentences_touching_the_body_stay_a_label_does_not():
    lines = ["What says \"the holiday season\" better than a ferry strike?", "Well ... um ... ANYTHING."]
    res = clean_article(["Print Story", *lines, P1, P2, "Thanks, Harbour!", "Archives"], title="x")
    assert res.blocks == [*lines, P1, P2, "Thanks, Harbour!"]


def test_caption_with_credit_leaves_the_body_for_captions():
    cap = "The morning ferry leaves Quay Street terminal on Tuesday as commuters queue on the pier."
    res = clean_article([P1, f"{cap}\nReuters", P2, P3], title="x")
    assert res.blocks == [P1, P2, P3]
    assert res.captions == [cap, "Reuters"]
    assert [(r.position, r.line, r.reason) for r in res.removed] == [(1, 0, "caption"), (1, 1, "photo_credit")]


@pytest.mark.parametrize("credit", ["AP Photo/Evan Vucci", "Photo: Getty Images", "AFP", "Image copyright Reuters",
                                    "Jonathan P. Blair Submitted photo",
                                    "Image caption The ferry at dawn", "(Image credit: NASA)",
                                    "Jane Roe/Associated Press", "Jane Roe/Harbour Times/Getty Images",
                                    "Jane Roe, AP", "Courtesy of Jane Roe", "личный архив Анны Ивановой",
                                    "Media captionThe ferry leaving the northern pier",
                                    "The ferry leaves the northern pier at dawnCredit: Getty Images"])
def test_photo_credits(credit):
    res = clean_article([P1, credit, P2, P3], title="x")
    assert credit in res.captions
    assert credit not in res.blocks


@pytest.mark.parametrize("line", [
    "Shoppers queue outside a store after the retailer reported earnings. Photograph by Jane Roe/AFP/Getty Images",
    "The ferry logo is displayed outside the terminal in Quay Street.Reuters",
    "Commuters asked for a later ferry. They didn't get it.Credit...Jane Roe/The Harbour Times",
    "A mural on a wall near the pier is for sale online. Photo / Reuters",
])
def test_a_caption_with_its_credit_glued_on_leaves_the_body(line):
    res = clean_article(["Home", line, P1, P2, P3], title="x")
    assert res.blocks == [P1, P2, P3]
    assert line in res.captions


@pytest.mark.parametrize("line", [
    "The council said the talks would resume next week. The AP reported it first.",
    "The minister spoke to reporters at the pier. Photo opportunities followed the meeting",
    "Sales of ferry tickets rose by five percent. Shares fell on the news, said Reuters.",
])
def test_a_body_line_naming_an_agency_or_a_photo_is_no_caption(line):
    res = clean_article([P1, line, P2, P3], title="x")
    assert line in res.blocks


def test_a_last_paragraph_with_the_wire_credit_glued_on_stays():
    last = ("The harbour ferry, the region's first, runs from May to October. (Reporting by Jane Roe; "
            "Editing by John Doe)")
    res = clean_article([P1, P2, last, "Most popular", "Storm closes three ports"], title="x")
    assert res.blocks == [P1, P2, last]


def test_a_lede_that_lost_its_full_stop_starts_the_body():
    lede = ("Harbour officials have this morning paid the fee to the regional authority to secure the "
            "long-awaited ferry link for the northern suburbs")
    short = "This has freed the way for the new piers at Quay Street"
    res = clean_article(["Home", "Harbour Ferry Link Approved By Council After Decade Of Campaigning", lede, short,
                         P1, P2], title="x")
    assert res.blocks == [lede, short, P1, P2]


def test_a_bare_credit_label_goes_and_claims_no_caption():
    res = clean_article([P1, "Anna Petrova", "Фото:", P2, P3], title="x")
    assert res.blocks == [P1, "Anna Petrova", P2, P3]
    assert res.captions == []
    assert [r.reason for r in res.removed] == ["photo_credit"]


def test_byline_fills_author_and_dateline_fills_date():
    res = clean_article(["By BARBARA VANCHERI", "Published: 10 January 2008", P1, P2, P3], title="x")
    assert res.author == "Barbara Vancheri"
    assert res.dateline == "10 January 2008"
    assert res.blocks == [P1, P2, P3]
    res = clean_article(["By Jane Doe, Associated Press", P1, P2], title="x")
    assert res.author == "Jane Doe, Associated Press"


@pytest.mark.parametrize("line,author,date", [
    ("By Adrian Shaw 18/01/2008", "Adrian Shaw", None),  # a byline with its date
    ("01/17 16:59:52 ET", None, "01/17"),  # month/day before a time
    ("Updated at 1:23 p.m.", None, None),  # a time alone: supplemental, but no date to fill
    ("Tucson, Arizona | Published: 01.09.2008", None, "01.09.2008"),  # a place beside the date
    ("By Jane Roe on Monday, November 18th, 2019 at 11:04 a.m.", "Jane Roe", None),  # a byline with its date
    ("By Jane Roe ? More by this author", "Jane Roe", None),
])
def test_bylines_and_datelines_in_their_common_variants_go_to_captions(line, author, date):
    res = clean_article([line, P1, P2, P3], title="x")
    assert res.blocks == [P1, P2, P3]
    assert res.captions == [line]
    assert (res.author, res.dateline) == (author, date)


def test_syndication_credit_is_a_credit():
    line = "(This news article provided by World Entertainment News Network)"
    res = clean_article([P1, P2, P3, line], title="x")
    assert res.blocks == [P1, P2, P3] and res.captions == [line]
    assert removed_reason("Provided by the European Space Agency", "end") == "reporter_credit"
    # a sentence that only uses the words stays
    assert removed_reason("The new ferries will be provided by a shipyard in Gdansk under the contract.") is None


def test_a_data_list_the_article_ends_with_stays_and_the_menu_after_it_goes():
    dates = ["June 9 -- Coral Sky Amphitheatre, West Palm Beach, FL", "June 10 -- Credit Union Amphitheatre, Tampa, FL",
             "June 14 -- Bank Amphitheatre, Alpharetta, GA", "Sept. 2 -- USANA Amphitheatre, Salt Lake City, UT"]
    menu = ["FACEBOOK", "TWITTER", "Subscribe", "Buy this issue"]
    res = clean_article([P1, P2, P3, "The 2020 tour dates:", *dates, *menu], title="x")
    assert res.blocks == [P1, P2, P3, "The 2020 tour dates:", *dates]
    # a headline list without a numbered shape is not a data list
    heads = ["Storm closes three ports", "Council tax to rise", "Ferry strike called off"]
    assert clean_article([P1, P2, P3, *heads], title="x").blocks == [P1, P2, P3]


def test_a_calendar_is_the_article_even_on_a_page_with_little_prose():
    """A page whose content is a data list (a race calendar) and whose only long sentences are the
    site's furniture below it: the list anchors the body like a paragraph; a menu of one-word-and-a-
    number items ('Route 6', 'January 2018') never does."""
    calendar = [f"{n}a etapa: {d} de {m} – {v}" for n, d, m, v in [
        (1, 10, "março", "Interlagos"), (2, 8, "abril", "Curitiba / Alternativa"), (3, 22, "abril", "Velopark"),
        (4, 6, "maio", "Londrina"), (5, 20, "maio", "Santa Cruz do Sul"), (6, 5, "agosto", "Corrida do Milhão"),
        (7, 19, "agosto", "A ser divulgado")]]
    policy = ("ATENÇÃO: Comentários com textos ininteligíveis ou que faltem com respeito ao usuário não "
              "serão aprovados pelo moderador.")
    res = clean_article(["StockCar", "Calendário da Stock Car 2018", *calendar, policy], title="Calendário 2018")
    assert res.blocks[:len(calendar)] == calendar
    # the same page without its calendar: nothing anchors the menu above the policy line
    routes = [f"Route {n}" for n in range(1, 8)]
    res = clean_article(["StockCar", *routes, P1, P2], title="x")
    assert res.blocks == [P1, P2]
    archive = [f"{m} 2018 ({n})" for n, m in enumerate(["January", "February", "March", "April", "May", "June"])]
    assert clean_article([*archive, P1, P2], title="x").blocks == [P1, P2]


def test_a_list_under_a_lead_in_line_the_article_ends_with_stays():
    features = ["Hundreds of new harbour routes that make the ferry map fuller",
                "Dozens of timetable changes that will help commuters plan better",
                "A large variety of ticket types for every kind of traveller",
                "Night crossings on weekends, even after the summer season is over"]
    res = clean_article([P1, P2, P3, "The new service brings:", *features, "Share this:", "Facebook", "Twitter"],
                        title="x")
    assert res.blocks == [P1, P2, P3, "The new service brings:", *features]
    # items of a word or two (a share bar, tags) or title-cased headlines are no such list
    for tail in (["Share this:", "Facebook", "Twitter", "Email this page"],
                 ["Elsewhere on the site:", "Storm Closes Three Ports In One Night", "Council Tax To Rise Again",
                  "Ferry Strike Called Off After Talks"]):
        assert clean_article([P1, P2, P3, *tail], title="x").blocks == [P1, P2, P3]


SCOREBOARD = ["SCOREBOARD", "Harbour United:", "J. Smith", "c Jones b Patel", "13", "A. Brown", "b Patel", "1",
              "K. Lee", "not out", "25", "Extras", "lb1, w3", "4", "Total", "93", "Fall of wkts", "1-3, 2-41, 3-44",
              "Bowling", "Patel 8.5-1-27-2", "Martin 10-4-22-0"]


def test_a_numbered_list_the_article_ends_with_stays_whatever_its_items_look_like():
    items = ["1) Lego harbour ferry set 75188", "http://amzn.to/2iJFhRj",
             "2) Model pier with lights, batteries included (2 AA)", "http://amzn.to/2hZfWFJ",
             "3) The ferry book: a history of the harbour crossings 1890-2020 (hardback)", "http://amzn.to/2hWw372"]
    res = clean_article([P1, P2, P3, "Here are the gifts we picked for ferry fans:", *items, "Share this", "Most read"],
                        title="x")
    assert res.blocks == [P1, P2, P3, "Here are the gifts we picked for ferry fans:", *items]
    # so is a short "<topic> Headlines / Stories / News" line, with its headlines
    nfl = ["NFL Headlines", "Storm closes ports", "Council tax to rise", "Ferry strike called off"]
    assert clean_article([P1, P2, P3, *nfl], title="x").blocks == [P1, P2, P3]
    assert clean_article([P1, "The good news", P2, P3], title="x").blocks == [P1, "The good news", P2, P3]
    # a datelined lede under such a header is the article's start, not a headline
    lede = "PORTSIDE, England (AP) — The latest on the ferry strike (all times local):"
    res = clean_article(["More from the Gazette", "Storm closes ports", lede, P1, P2, P3], title="x")
    assert res.blocks == [lede, P1, P2, P3]
    # "More:" above headlines is a related-stories header
    more = ["More:", "Storm closes ports", "Council tax to rise", "Ferry strike called off"]
    assert clean_article([P1, P2, *more, P3], title="x").blocks == [P1, P2, P3]
    # a numbered list under a related-stories header is the header's, not the article's
    most_read = ["Most read", "1) Storm closes ports", "2) Council tax to rise", "3) Ferry strike called off"]
    assert clean_article([P1, P2, P3, *most_read], title="x").blocks == [P1, P2, P3]


def test_a_table_of_short_cells_the_article_ends_with_stays_with_its_numbers():
    """A scoreboard printed one cell per line: no single shape, but short cells and many numbers. Its
    bare numbers and bowling figures, removed when judged alone, come back; the debris after it goes."""
    res = clean_article([P1, P2, P3, *SCOREBOARD, "Advertisement", "Most read", "Email this article"], title="x")
    assert res.blocks == [P1, P2, P3, *SCOREBOARD]
    assert res.dateline is None  # 'Martin 10-4-22-0' is a bowling figure, not a date
    assert clean_article(res.blocks, title="x").blocks == res.blocks  # idempotent


@pytest.mark.parametrize("tail", [
    ["Home", "News", "Sport", "Business", "Weather", "Contact us", "About us", "Jobs", "Classifieds", "Obituaries",
     "Archives", "Site map", "Privacy", "Terms"],  # a menu: no numbers
    ["Storm closes three ports", "Council tax to rise by 4% in 2021", "Ferry strike called off",
     "Harbour master retires after 30 years", "New bridge opens to traffic", "Budget: what 2020 means for you",
     "Fishing fleet returns early", "Schools shut for 2 days", "Mayor defends spending", "Rail fares up 3%",
     "Lifeboat crew honoured", "Port traffic hits record", "Weather warning for weekend", "Top 10 beaches"],
    # a headline list: numbers in a third of them, but sentences of many words
    ["Tags:", "harbour", "ferry", "council", "budget", "suburbs", "transport", "strike", "weather", "port", "news",
     "local", "1", "2"],  # a few numbers among words
])
def test_short_lines_after_the_body_that_are_not_a_table_still_go(tail):
    assert clean_article([P1, P2, P3, *tail], title="x").blocks == [P1, P2, P3]


def test_a_lone_call_to_action_leading_into_the_body_stays_a_stack_of_them_goes():
    intro = ["Try something new this weekend.", "Click here to get more information or download this game.",
             "Who is this game for?"]
    res = clean_article(["Home", *intro, P1, P2, "Click here to download the game."], title="x")
    assert res.blocks == [*intro, P1, P2]
    stack = ["Click here to bet on the match!", "Click here for our transfer centre!", "Click here for text alerts!"]
    res = clean_article([*stack, P1, P2], title="x")
    assert res.blocks == [P1, P2]
    assert {r.reason for r in res.removed} == {"click_here"}


def test_wire_dateline_inside_the_lede_stays():
    lede = "WASHINGTON (Reuters) - The United States imposed sanctions on Thursday on four officials over rights abuses."
    res = clean_article([lede, P1, P2], title="x")
    assert res.blocks[0] == lede


def test_title_repeated_at_the_top_goes():
    res = clean_article(["Ferry fares to rise", P1, P2], title="Ferry fares to rise")
    assert res.blocks == [P1, P2]
    assert res.removed[0].reason == "title_repeat"


def test_title_repeat_under_edge_debris_that_goes_goes_in_the_same_cleaning():
    """A sentence an edge rule names (an author's bio) above the repeat leaves the top only after the
    repeat was first looked for: it is looked for again, so the repeat goes in the first cleaning
    and a second cleaning changes nothing (found by the idempotence property)."""
    blocks = ["00", "00", "0 0 IS A 0 WRITER BASED:0:0:0:0:0.", "B"]
    res = clean_article(blocks, title="B")
    assert [r.reason for r in res.removed] == ["navigation", "navigation", "author_bio", "title_repeat"]
    assert res.blocks == [] and clean_article(res.blocks, title="B").blocks == []


def test_odd_whitespace_never_defeats_a_rule():
    for line in ["Loading\u2026", "\u00a0Advertisement\u00a0", "READ\u2009MORE:\u00a0Ferry news", "Share\u200b this"]:
        assert removed_reason(line) is not None, repr(line)


def test_a_section_break_and_a_price_inside_the_body_stay_at_the_edges_they_go():
    res = clean_article(["* * *", P1, "___", P2, "$139.00", P3, "Storm closes three ports", "———"], title="x")
    assert res.blocks == [P1, "___", P2, "$139.00", P3]
    assert [r.reason for r in res.removed] == ["page_header", "page_footer", "page_footer"]
    assert removed_reason("| | |") == "no_letters"


@pytest.mark.parametrize("mark", ["___", "# # #", "———", "------"])
def test_the_break_that_closes_the_story_stays_with_it_and_the_furniture_after_it_goes(mark):
    """The wire's and the press release's end-of-story mark right below the last paragraph is part of
    the article (both real-page benchmarks here label it so); what follows it is the page's."""
    res = clean_article([P1, P2, P3, mark, "Most Popular", "Storm closes three ports", "Council tax to rise"],
                        title="x")
    assert res.blocks == [P1, P2, P3, mark]


def test_three_calls_to_action_in_a_row_are_a_widget_even_inside_the_body():
    promo = ["Click here to bet on the match!", "Click here for our transfer centre!", "Click here for text alerts!"]
    assert clean_article([P1, *promo, P2, P3], title="x").blocks == [P1, P2, P3]
    # one inside the body is the article's own link sentence
    assert clean_article([P1, promo[0], P2, P3], title="x").blocks == [P1, promo[0], P2, P3]


def test_calls_to_action_with_only_a_removed_line_between_them_are_a_stack():
    """Found by the idempotence property: two 'Click here' lines with a counter between them were a
    lone call to action each on the first pass and a stack once the counter had gone."""
    blocks = ["CLICK HERE to win a ferry pass", "0", "CLICK HERE to win a ferry pass", P1, P2]
    res = clean_article(blocks, title="x")
    assert res.blocks == [P1, P2]
    assert clean_article(res.blocks, title="x").blocks == res.blocks


MENU = ["TEAM PAGES", "Harbour United", "Quay Rovers", "Live scores", "Horse racing", "Football shirts", "Car loans",
        "Music downloads", "Corporate days out"]
P4 = ("The operator said the first crossings would run every half hour at peak times and every hour in the "
      "evening, with later sailings on Fridays and Saturdays during the summer season.")
P5 = ("Opponents of the plan said the money would be better spent on the bus network, which carries far more "
      "passengers than the ferries, and asked the council to publish its passenger forecasts in full.")


def test_a_teaser_above_the_site_menus_is_not_the_start_of_the_article():
    teaser = "A look at the harbour master who kept the ferries running for years."
    res = clean_article([teaser, *MENU, P1, P2, P3, P4, P5], title="x")
    assert res.blocks == [P1, P2, P3, P4, P5]
    # a lede with a wire dateline above a wide box is the article's start
    lede = "PORTSIDE, England — " + teaser
    assert clean_article([lede, *MENU, P1, P2, P3, P4, P5], title="x").blocks == [lede, *MENU, P1, P2, P3, P4, P5]
    # so is a run of paragraphs that is not small beside the rest
    assert clean_article([P1, P2, *MENU, P3, P4, P5], title="x").blocks == [P1, P2, *MENU, P3, P4, P5]


def test_a_caption_in_the_wires_words_goes_to_captions():
    cap = "In this Nov. 5, 2019 photo, a ferry leaves the northern pier."
    res = clean_article([P1, cap, P2, P3], title="x")
    assert res.blocks == [P1, P2, P3] and res.captions == [cap]


def test_a_related_story_summary_below_the_site_furniture_is_not_the_end_of_the_article():
    summary = "Council tax will rise by four per cent in April, the committee said."
    res = clean_article([P1, P2, P3, P4, P5, *MENU, "Council tax to rise", summary], title="x")
    assert res.blocks == [P1, P2, P3, P4, P5]
    # three paragraphs below the furniture are more than a teaser: they stay
    assert clean_article([P1, P2, P3, P4, P5, *MENU, summary, summary + " ", summary + "  "],
                         title="x").blocks[-1].startswith("Council tax")
