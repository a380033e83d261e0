"""Small hand-written stories for the corpus-dedup tests: a base story, its near-copies and hard negatives."""

BASE = [
    "Three ports on the east coast were closed on Wednesday as gusts of up to 90mph swept across the region, "
    "the coastguard said, and ferry operators cancelled every sailing until at least Friday morning.",
    "Ferries between the mainland and the islands were cancelled for a second day, leaving hundreds of "
    "passengers stranded in harbour towns where hotels quickly filled up with travellers and lorry drivers.",
    "The Met Office issued an amber warning for wind covering most of the coast until midnight and said "
    "the storm would move north overnight before weakening over the sea early on Thursday.",
    "\"Please stay away from sea fronts and harbour walls,\" a coastguard spokesperson said. \"Waves are "
    "overtopping defences in several places and conditions can change in seconds.\"",
    "About 4,000 homes lost power overnight, the electricity network operator said, and engineers had "
    "reconnected all but 600 of them by the afternoon despite fallen trees blocking several roads.",
    "In Northport, the lifeboat crew was called out twice to yachts that had broken their moorings in the "
    "marina, and one sailor was taken to hospital with minor injuries after being pulled from the water.",
    "Rail services along the coastal line were suspended after debris was blown onto the tracks near "
    "Eastmouth, and the operator said replacement buses would run between the main stations.",
    "Forecasters said a second, weaker storm could reach the coast on Sunday, though it was expected to "
    "bring mostly heavy rain rather than the damaging gusts seen this week.",
]
BRIEF = BASE[:2]
ABRIDGED = [BASE[0], BASE[1], BASE[3], BASE[5]]
UPDATED = [p.replace("4,000", "4,500").replace("all but 600", "all but 350") for p in BASE] + [
    "By Thursday evening the harbour authority said two of the three ports had reopened and the first "
    "ferries to the islands would leave at six on Friday morning, weather permitting.",
]
REORDERED = [BASE[i] for i in (2, 0, 1, 5, 4, 3, 7, 6)]
REWRAPPED = [p.replace(", ", ",\n", 1) for p in BASE]

FOLLOW_UP = [
    "Repair crews began work on Friday on the sea wall at Northport, where a 40-metre section collapsed "
    "during this week's storm and flooded the car park of the marina with sand and shingle.",
    "The council said the repairs would cost about two million pounds and take at least three months, and "
    "that the marina would stay closed to visitors while engineers checked the foundations.",
    "Local businesses said the closure would hurt them badly in the spring, when the marina usually "
    "attracts thousands of visitors, and asked the council for help with their rates bills.",
    "Three ports on the east coast were closed on Wednesday as gusts of up to 90mph swept across the region, "
    "the coastguard said, and ferry operators cancelled every sailing until at least Friday morning.",
    "A public meeting about the repairs will be held in the Northport town hall next Tuesday evening, and "
    "residents have been invited to send questions in advance by email or by post.",
]
SITE_BOILERPLATE = [
    "The Coastal Echo is your local paper for the whole east coast, with news, sport and weather every day.",
    "Got a story? Call the newsdesk or email us, and follow the Coastal Echo for live updates all day long.",
]
OTHER_STORY = [
    "The county's largest school will close its swimming pool for a year from September so that the roof "
    "can be replaced, the head teacher told parents in a letter sent home on Monday.",
    "Pupils will have their swimming lessons at the leisure centre in the town instead, and the school said "
    "it would pay for the coaches that take them there and back each week.",
    "The pool was built in 1974 and has not been refurbished since the early nineties, and inspectors found "
    "that the roof timbers had been weakened by decades of warm, damp air from the water below.",
]
TEMPLATE_A = [
    "Harbour Holdings reported a pre-tax profit of 12.4 million pounds for the third quarter, up 8 per cent on "
    "the same period last year, on revenue of 96.1 million pounds, the company said on Tuesday.",
    "The company said demand for container handling had held up well and that it expected full-year profit "
    "to be in line with market expectations. Its shares rose 2.1 per cent in early trading.",
    "Chief executive Mary Olsen said the new crane terminal at Eastmouth had opened on schedule and was "
    "already handling a fifth of the group's freight.",
]
TEMPLATE_B = [
    "Northern Rail Freight reported a pre-tax profit of 3.2 million pounds for the third quarter, down 15 per "
    "cent on the same period last year, on revenue of 41.7 million pounds, the company said on Thursday.",
    "The company said weak demand for coal haulage had hit results and that it expected full-year profit to "
    "be below market expectations. Its shares fell 6.4 per cent in early trading.",
    "Chief executive Tom Baines said the company would cut 120 jobs at its Westbury depot and sell two "
    "locomotives to cover the shortfall in the coal business.",
]
