"""``python manage.py seed_demo``: a realistic demo platform, built through the services.

Besides people, communities, spaces and memberships it writes content: wiki pages with several versions (by
different editors, one restored), a page tree, page templates, files in a library and attached to a page (one
with two versions, one shown as an image in a page), comments with replies, a restricted page in a closed
space, and members watching spaces and pages.

Idempotent: every person is looked up by e-mail, every community and space by slug, and every membership,
request, invitation, ban and grant is looked for before it is made; a page is looked up by slug or title (and
its versions, restrictions and comments are written only when it is created), a file by its name in the
space, a template by name, a watch by its member; so running it again changes nothing.
Everything runs in one transaction; e-mails the services send (invitations, decisions) go to the in-memory
backend while seeding so the console shows only the summary of demo logins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from io import BytesIO

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageDraw

from analytics.models import ActivityEvent
from communities import permissions as community_permissions
from communities import services as community_services
from communities.models import Community, CommunityMembership, CommunityRole, IntroAnswer, Onboarding
from copapp.uploads import sanitize_filename, split_filename
from members.demo_follows import seed_demo_follows
from members.demo_messages import seed_demo_messages
from members.models import Conversation, Expertise, Message, OrganisationType
from spaces import permissions as space_permissions
from spaces import services as space_services
from spaces.management.commands._demo_activity import ActivitySeeder
from spaces.management.commands._demo_courses import seed_demo_course
from spaces.management.commands._demo_engagement import EngagementSeeder
from spaces.models import (
    Answer,
    Comment,
    Course,
    Enrolment,
    Event,
    FileAsset,
    FileVersion,
    Invitation,
    JoinRequest,
    Milestone,
    Page,
    PageTemplate,
    Paper,
    Poll,
    PollVote,
    Post,
    Question,
    Reaction,
    Registration,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    SpaceUserObjectPermission,
    Visibility,
    Vote,
    Watch,
)

DEMO_PASSWORD = "demo-pass-2026"

VIEWER, EDITOR, MODERATOR, ADMIN = SpaceRole.VIEWER, SpaceRole.EDITOR, SpaceRole.MODERATOR, SpaceRole.ADMIN
OPEN, PRIVATE, CLOSED = Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED


# --- People ---------------------------------------------------------------------------------------------
@dataclass
class Person:
    key: str
    email: str
    name: str
    organisation: str
    organisation_type: str
    country: str
    time_zone: str
    job_title: str
    bio: str
    expertise: list[str]
    demo: str  # what this login shows in the demo (printed in the summary)
    is_staff: bool = False
    analyst: bool = False


NSO, DEV, ACADEMIA, OTHER = (
    OrganisationType.NSO,
    OrganisationType.DEV_PARTNER,
    OrganisationType.ACADEMIA,
    OrganisationType.OTHER,
)

PEOPLE = [
    Person(
        key="admin",
        email="admin@example.org",
        name="Site Administrator",
        organisation="UN ESCAP Statistics Division",
        organisation_type=DEV,
        country="Thailand",
        time_zone="Asia/Bangkok",
        job_title="Platform administrator",
        bio="Runs the platform for the secretariat: creates communities and helps their admins.",
        expertise=["Community management"],
        demo="site staff (superuser; Django admin at /admin/)",
        is_staff=True,
    ),
    Person(
        key="analyst",
        email="analyst@example.org",
        name="Chayanee Srisuk",
        organisation="UN ESCAP Statistics Division",
        organisation_type=DEV,
        country="Thailand",
        time_zone="Asia/Bangkok",
        job_title="Statistician, Monitoring and Evaluation",
        bio="Follows engagement across the communities of practice and reports to the secretariat's bureau.",
        expertise=["Monitoring and evaluation", "Data visualisation"],
        demo="secretariat analyst (members.view_analytics, not staff)",
        analyst=True,
    ),
    Person(
        key="siti",
        email="siti.rahmawati@example.org",
        name="Siti Rahmawati",
        organisation="Statistics Indonesia (BPS)",
        organisation_type=NSO,
        country="Indonesia",
        time_zone="Asia/Jakarta",
        job_title="Director of Statistical Methodology",
        bio="Leads BPS work on linking tax, civil registration and business register data for statistics.",
        expertise=["Record linkage", "Administrative data", "Statistical business registers"],
        demo="community admin of Data Integration (admin of its spaces)",
    ),
    Person(
        key="agus",
        email="agus.wibowo@example.org",
        name="Agus Wibowo",
        organisation="Statistics Indonesia (BPS)",
        organisation_type=NSO,
        country="Indonesia",
        time_zone="Asia/Jakarta",
        job_title="Statistician, Integration of Administrative Data",
        bio="Builds the pipelines that bring ministry registers into the BPS data warehouse.",
        expertise=["Data engineering", "Privacy-preserving record linkage"],
        demo="moderator of Administrative data sources (Data Integration)",
    ),
    Person(
        key="maria",
        email="maria.santos@example.org",
        name="Maria Santos",
        organisation="Philippine Statistics Authority",
        organisation_type=NSO,
        country="Philippines",
        time_zone="Asia/Manila",
        job_title="Chief Statistical Specialist, Census Planning",
        bio="Coordinated field operations for the 2020 Census of Population and Housing; now plans the next.",
        expertise=["Population census", "CAPI", "Geospatial statistics"],
        demo="community admin of Population Census Innovation",
    ),
    Person(
        key="ramon",
        email="ramon.delacruz@example.org",
        name="Ramon dela Cruz",
        organisation="Philippine Statistics Authority",
        organisation_type=NSO,
        country="Philippines",
        time_zone="Asia/Manila",
        job_title="Information Technology Officer, PhilSys Registry",
        bio="Works on using the national ID register (PhilSys) as a frame for statistics.",
        expertise=["Population registers", "Data engineering"],
        demo="moderator of Record linkage help desk; focal point (Philippines) in Data Integration",
    ),
    Person(
        key="mereoni",
        email="mereoni.tuivaga@example.org",
        name="Mereoni Tuivaga",
        organisation="Bureau of Statistics Fiji",
        organisation_type=NSO,
        country="Fiji",
        time_zone="Pacific/Fiji",
        job_title="Principal Statistician, Economic and Environment Statistics",
        bio="Compiled Fiji's post-disaster damage statistics after TC Winston and TC Yasa.",
        expertise=["Disaster-related statistics", "Environment statistics"],
        demo=("community moderator of Disaster-related Statistics; admin of Task team on disaster loss accounts"),
    ),
    Person(
        key="emma",
        email="emma.whitfield@example.org",
        name="Emma Whitfield",
        organisation="Australian Bureau of Statistics",
        organisation_type=NSO,
        country="Australia",
        time_zone="Australia/Canberra",
        job_title="Director, Data Integration Partnerships",
        bio="Works on the Person Level Integrated Data Asset (PLIDA) and the Five Safes framework.",
        expertise=["Record linkage", "Data governance", "Statistical disclosure control"],
        demo="community moderator of Data Integration; admin of Task team on data linkage",
    ),
    Person(
        key="jiyeon",
        email="jiyeon.park@example.org",
        name="Ji-yeon Park",
        organisation="Statistics Korea",
        organisation_type=NSO,
        country="Republic of Korea",
        time_zone="Asia/Seoul",
        job_title="Deputy Director, Register-based Census Division",
        bio="Part of the team that moved Korea to a register-based census in 2015.",
        expertise=["Register-based census", "Administrative data"],
        demo="admin of Register-based census working group; focal point (Korea) in Data Integration",
    ),
    Person(
        key="baterdene",
        email="baterdene.ganbold@example.org",
        name="Bat-Erdene Ganbold",
        organisation="National Statistics Office of Mongolia",
        organisation_type=NSO,
        country="Mongolia",
        time_zone="Asia/Ulaanbaatar",
        job_title="Head of Population and Housing Census Division",
        bio="Led census cartography and the tablet-based enumeration of the 2020 census in Mongolia.",
        expertise=["Population census", "Geospatial statistics"],
        demo="community moderator of Population Census Innovation; admin of Expert Group Bureau",
    ),
    Person(
        key="farhana",
        email="farhana.rahman@example.org",
        name="Farhana Rahman",
        organisation="Bangladesh Bureau of Statistics",
        organisation_type=NSO,
        country="Bangladesh",
        time_zone="Asia/Dhaka",
        job_title="Deputy Director, Environment, Climate Change and Disaster Statistics",
        bio="Manages the Bangladesh Disaster-related Statistics survey and the Sendai Framework reporting.",
        expertise=["Disaster-related statistics", "Household surveys"],
        demo="community admin of Disaster-related Statistics",
    ),
    Person(
        key="priya",
        email="priya.nair@example.org",
        name="Priya Nair",
        organisation="National Statistics Office India (MoSPI)",
        organisation_type=NSO,
        country="India",
        time_zone="Asia/Kolkata",
        job_title="Deputy Director General, Data Informatics and Innovation",
        bio="Explores satellite and mobile data for official statistics at MoSPI.",
        expertise=["Big data", "Machine learning"],
        demo="viewer in Good practices library and Task team on data linkage (Data Integration)",
    ),
    Person(
        key="sabin",
        email="sabin.shrestha@example.org",
        name="Sabin Shrestha",
        organisation="National Statistics Office, Nepal",
        organisation_type=NSO,
        country="Nepal",
        time_zone="Asia/Kathmandu",
        job_title="Statistics Officer, Census Section",
        bio="Worked on processing and small-area outputs of the 2021 National Population and Housing Census.",
        expertise=["Population census", "Small area estimation"],
        demo=("viewer in Register-based census working group; focal point (Nepal) in Population Census Innovation"),
    ),
    Person(
        key="losaline",
        email="losaline.taufa@example.org",
        name="Losaline Taufa",
        organisation="Pacific Community (SPC)",
        organisation_type=DEV,
        country="New Caledonia",
        time_zone="Pacific/Noumea",
        job_title="Census and Survey Statistician, Statistics for Development Division",
        bio="Supports Pacific Island statistics offices with census and survey operations.",
        expertise=["Population census", "CAPI", "Disaster-related statistics"],
        demo="moderator of Administrative data for census; editor in Expert Group Bureau",
    ),
    Person(
        key="lan",
        email="nguyen.thilan@example.org",
        name="Nguyen Thi Lan",
        organisation="UNFPA Asia-Pacific Regional Office",
        organisation_type=DEV,
        country="Thailand",
        time_zone="Asia/Bangkok",
        job_title="Population Data Specialist",
        bio="Advises countries in the region on census methodology and the use of census data for planning.",
        expertise=["Population census", "Demographic analysis"],
        demo="editor in Expert Group Bureau and Census good practices library",
    ),
    Person(
        key="helen",
        email="helen.matthews@example.org",
        name="Helen Matthews",
        organisation="Australian National University",
        organisation_type=ACADEMIA,
        country="Australia",
        time_zone="Australia/Canberra",
        job_title="Associate Professor, School of Demography",
        bio="Researches the quality of administrative population estimates.",
        expertise=["Demographic analysis", "Small area estimation"],
        demo="outside reviewer: viewer of Register-based census working group by a grant, in no community",
    ),
    Person(
        key="aroha",
        email="aroha.ngata@example.org",
        name="Aroha Ngata",
        organisation="Stats NZ",
        organisation_type=NSO,
        country="New Zealand",
        time_zone="Pacific/Auckland",
        job_title="Senior Methodologist, Administrative Population Census",
        bio="Works on the administrative population census and coverage adjustment at Stats NZ.",
        expertise=["Register-based census", "Record linkage"],
        demo="moderator of Task team on data linkage; pending invitation to Expert Group Bureau",
    ),
    Person(
        key="jeanpierre",
        email="jeanpierre.kalsakau@example.org",
        name="Jean-Pierre Kalsakau",
        organisation="Vanuatu Bureau of Statistics",
        organisation_type=NSO,
        country="Vanuatu",
        time_zone="Pacific/Efate",
        job_title="Senior Statistician",
        bio="Compiled damage and loss statistics after TC Pam and the 2023 twin cyclones.",
        expertise=["Disaster-related statistics", "Household surveys"],
        demo=("editor in Disaster statistics forum; pending join request to Sendai Framework indicator reporting"),
    ),
    Person(
        key="faamanu",
        email="faamanu.leota@example.org",
        name="Faamanu Leota",
        organisation="Samoa Bureau of Statistics",
        organisation_type=NSO,
        country="Samoa",
        time_zone="Pacific/Apia",
        job_title="Principal Officer, Census and Surveys",
        bio="Preparing the next Samoa Population and Housing Census with tablet-based enumeration.",
        expertise=["Population census", "CAPI"],
        demo="viewer in Expert Group Bureau; pending join request to Administrative data for census",
    ),
    Person(
        key="duc",
        email="tran.minhduc@example.org",
        name="Tran Minh Duc",
        organisation="General Statistics Office of Viet Nam",
        organisation_type=NSO,
        country="Viet Nam",
        time_zone="Asia/Ho_Chi_Minh",
        job_title="Deputy Head, Data Integration Division",
        bio="Works on the national population database and its use for statistics.",
        expertise=["Administrative data", "Data engineering"],
        demo="viewer in Good practices library; pending join request to Administrative data sources",
    ),
    Person(
        key="nuwan",
        email="nuwan.perera@example.org",
        name="Nuwan Perera",
        organisation="Department of Census and Statistics, Sri Lanka",
        organisation_type=NSO,
        country="Sri Lanka",
        time_zone="Asia/Colombo",
        job_title="Statistician, Population Census Division",
        bio="Preparing the census cartography for Sri Lanka's next census.",
        expertise=["Population census", "Geospatial statistics"],
        demo="outsider with a pending join request (Administrative data for census), in no space yet",
    ),
    Person(
        key="mark",
        email="mark.dawson@example.org",
        name="Mark Dawson",
        organisation="DataVista Analytics Pte Ltd",
        organisation_type=OTHER,
        country="Singapore",
        time_zone="Asia/Singapore",
        job_title="Business Development Manager",
        bio="Sells dashboard software to government agencies.",
        expertise=["Data visualisation"],
        demo=(
            "banned from Disaster statistics forum; "
            "his join request to Sendai Framework indicator reporting was declined"
        ),
    ),
]

# Invitation to an address with no account: the person signs up with it to accept.
NO_ACCOUNT_INVITEE = (
    "kenji.tanaka@example.org",
    "no account; pending invitation to Task team on data linkage",
)


# --- Communities, spaces and who is where -----------------------------------------------------------------
@dataclass
class SpacePlan:
    slug: str
    name: str
    visibility: str
    default_role: int
    description: str
    members: list[tuple[str, int]] = field(default_factory=list)  # (person key, final role)
    pending_requests: list[tuple[str, str]] = field(default_factory=list)  # (person key, message)
    declined_requests: list[tuple[str, str, str]] = field(default_factory=list)  # (key, message, response)
    pending_invitations: list[tuple[str, int, str]] = field(default_factory=list)  # (e-mail, role, message)
    bans: list[tuple[str, str]] = field(default_factory=list)  # (person key, reason)
    grants: list[tuple[str, int]] = field(default_factory=list)  # (person key, role), outside reviewers
    archived: bool = False


@dataclass
class CommunityPlan:
    slug: str
    name: str
    description: str
    guidelines: str
    questions: list[str]
    admins: list[str]
    moderators: list[str]
    focal_points: list[str]
    spaces: list[SpacePlan]
    answers: dict[str, tuple[str, ...]]  # person key -> one answer per question


COMMON_GUIDELINES = """\
- Be respectful and constructive: we are colleagues from many offices, languages and traditions.
- Do not post confidential microdata or anything that could identify a person or business.
- Say which office you speak for, and when you speak only for yourself.
- Share sources and documents you may share publicly; mark drafts as drafts.
- Flag problems to the moderators rather than arguing in threads.
"""

COMMUNITIES = [
    CommunityPlan(
        slug="data-integration",
        name="Data Integration",
        description=(
            "Practitioners from national statistics offices in Asia and the Pacific sharing methods, tools "
            "and governance arrangements for integrating administrative, survey and new data sources for "
            "official statistics."
        ),
        guidelines=COMMON_GUIDELINES
        + "- Describe linkage methods in enough detail that another office could reproduce them.\n",
        questions=[
            "What do you want to get out of this community?",
            "Which data sources does your office integrate, or plan to?",
        ],
        admins=["siti"],
        moderators=["emma"],
        focal_points=["ramon", "jiyeon"],
        spaces=[
            SpacePlan(
                "good-practices",
                "Good practices library",
                OPEN,
                VIEWER,
                "Curated case studies, guidelines and code from offices that have integrated administrative "
                "data into regular production. Editors maintain the library; everyone can read it.",
                members=[
                    ("emma", MODERATOR),
                    ("agus", EDITOR),
                    ("jiyeon", EDITOR),
                    ("ramon", VIEWER),
                    ("duc", VIEWER),
                    ("priya", VIEWER),
                ],
            ),
            SpacePlan(
                "linkage-help-desk",
                "Record linkage help desk",
                OPEN,
                EDITOR,
                "Ask and answer practical questions about deterministic and probabilistic record linkage, "
                "blocking, clerical review and linkage quality.",
                members=[
                    ("ramon", MODERATOR),
                    ("agus", EDITOR),
                    ("duc", EDITOR),
                    ("aroha", EDITOR),
                    ("priya", EDITOR),
                ],
            ),
            SpacePlan(
                "admin-data-sources",
                "Administrative data sources",
                PRIVATE,
                EDITOR,
                "Inventory of the administrative sources offices use (tax, civil registration, social "
                "protection, education), with access agreements and quality notes not for publication.",
                members=[("agus", MODERATOR), ("jiyeon", EDITOR), ("ramon", EDITOR), ("aroha", VIEWER)],
                pending_requests=[
                    (
                        "duc",
                        "GSO is building its data integration division and would like to learn how other "
                        "offices negotiated access to tax and social insurance data.",
                    )
                ],
            ),
            SpacePlan(
                "linkage-task-team",
                "Task team on data linkage",
                CLOSED,
                EDITOR,
                "Working group drafting the regional guidelines on privacy-preserving record linkage "
                "(draft for the 2026 session of the Committee on Statistics).",
                members=[
                    ("emma", ADMIN),
                    ("aroha", MODERATOR),
                    ("agus", EDITOR),
                    ("jiyeon", EDITOR),
                    ("priya", VIEWER),
                ],
                pending_invitations=[
                    (
                        NO_ACCOUNT_INVITEE[0],
                        EDITOR,
                        "Kenji, the task team would value the Statistics Bureau of Japan's experience with "
                        "the linked employer-employee data. Please join us for the drafting.",
                    )
                ],
            ),
            SpacePlan(
                "mobile-data-pilot",
                "Pilot: mobile phone data for tourism statistics (2023)",
                OPEN,
                EDITOR,
                "Notes and outputs of the 2023 pilot on mobile network operator data for domestic tourism "
                "statistics. The pilot has ended; this space is kept for reference.",
                members=[("priya", EDITOR), ("duc", EDITOR), ("agus", VIEWER)],
                archived=True,
            ),
        ],
        answers={
            "siti": (
                "Peer review of our linkage methods and a place to publish what works.",
                "Tax records, civil registration, the business register and village administrative data.",
            ),
            "emma": (
                "Sharing what the ABS learned building PLIDA, and learning from offices at other stages.",
                "Tax, social security, health, education and census data in the PLIDA asset.",
            ),
            "agus": (
                "Practical tips on building linkage pipelines that run every month, not once.",
                "Ministry of Home Affairs population register and tax data, for now.",
            ),
            "jiyeon": (
                "Comparing register-based methods with offices starting the same journey.",
                "Resident registration, building registers, tax and social insurance records.",
            ),
            "ramon": (
                "Learning how to use the PhilSys register as a sampling frame and a linkage key.",
                "PhilSys, civil registration and the business permits of local governments.",
            ),
            "duc": (
                "Examples of legal agreements for access to ministry data.",
                "The national population database; we plan to add social insurance data next year.",
            ),
            "priya": (
                "Ideas for combining new data sources with surveys.",
                "GST returns, Aadhaar-seeded scheme data and, experimentally, satellite imagery.",
            ),
            "aroha": (
                "Sharing coverage-adjustment methods and hearing how others evaluate linkage error.",
                "The Integrated Data Infrastructure: tax, benefits, health, education and border movements.",
            ),
        },
    ),
    CommunityPlan(
        slug="census-innovation",
        name="Population Census Innovation",
        description=(
            "For census managers and methodologists preparing the 2030 round: combined and register-based "
            "approaches, digital data collection, geospatial frames and keeping costs down."
        ),
        guidelines=COMMON_GUIDELINES
        + "- Census operational plans shared here stay in this community unless their office agrees.\n",
        questions=[
            "What do you want to get out of this community?",
            "When is your next census, and which approach are you considering (traditional, combined, register-based)?",
        ],
        admins=["maria"],
        moderators=["baterdene"],
        focal_points=["baterdene", "sabin"],
        spaces=[
            SpacePlan(
                "good-practices",
                "Census good practices library",
                OPEN,
                VIEWER,
                "Reports, questionnaires and evaluation studies from recent censuses in the region.",
                members=[
                    ("lan", EDITOR),
                    ("losaline", EDITOR),
                    ("sabin", VIEWER),
                    ("faamanu", VIEWER),
                    ("jiyeon", VIEWER),
                    ("ramon", VIEWER),
                ],
            ),
            SpacePlan(
                "admin-data-for-census",
                "Administrative data for census",
                PRIVATE,
                EDITOR,
                "Offices assessing administrative sources to replace or complement census enumeration: "
                "coverage studies, linkage results, legal frameworks.",
                members=[
                    ("losaline", MODERATOR),
                    ("jiyeon", EDITOR),
                    ("aroha", EDITOR),
                    ("sabin", EDITOR),
                    ("ramon", VIEWER),
                ],
                pending_requests=[
                    (
                        "nuwan",
                        "DCS Sri Lanka is assessing whether the electoral register can support the next "
                        "census. I would like to follow the coverage studies here.",
                    ),
                    (
                        "faamanu",
                        "Samoa is considering using the civil registration and national ID data for "
                        "the 2026 census listing; we would like to learn from others.",
                    ),
                ],
            ),
            SpacePlan(
                "register-based-census",
                "Register-based census working group",
                CLOSED,
                EDITOR,
                "Working group preparing a regional guide on moving from a traditional to a register-based census.",
                members=[("jiyeon", ADMIN), ("aroha", MODERATOR), ("emma", EDITOR), ("sabin", VIEWER)],
                grants=[("helen", VIEWER)],
            ),
            SpacePlan(
                "expert-group-bureau",
                "Expert Group Bureau",
                CLOSED,
                VIEWER,
                "The bureau of the Expert Group on Population and Housing Censuses: agendas, work plan and "
                "drafts for the plenary.",
                members=[("baterdene", ADMIN), ("lan", EDITOR), ("losaline", EDITOR), ("faamanu", VIEWER)],
                pending_invitations=[
                    (
                        "aroha.ngata@example.org",
                        EDITOR,
                        "Aroha, the bureau would like Stats NZ to lead the session on admin-based censuses.",
                    )
                ],
            ),
        ],
        answers={
            "maria": (
                "A regional view of what is working in census digitalisation.",
                "2030, traditional with CAPI; we are studying a combined approach using PhilSys.",
            ),
            "baterdene": (
                "Exchanging experience with tablets and GIS-based enumeration areas.",
                "2030; traditional, with an online self-response option.",
            ),
            "lan": (
                "Helping countries connect and finding where UNFPA support is most useful.",
                "UNFPA supports several 2030-round censuses in the region; approaches vary by country.",
            ),
            "losaline": (
                "Bringing Pacific experience into regional discussions.",
                "SPC supports about a dozen Pacific censuses between 2026 and 2031, mostly traditional.",
            ),
            "sabin": (
                "Learning about small-area outputs and post-enumeration surveys.",
                "2031; traditional, with more use of administrative data for the frame.",
            ),
            "faamanu": (
                "Advice on tablet procurement and training enumerators.",
                "2026; traditional with tablets, considering national ID data for the listing.",
            ),
            "jiyeon": (
                "Sharing Korea's register-based census experience.",
                "Korea produces a register-based census every year, with a sample survey every five.",
            ),
            "ramon": (
                "Understanding how a population register can support the census.",
                "PSA's 2030 census; we are testing PhilSys as a frame.",
            ),
            "aroha": (
                "Comparing notes on administrative censuses and coverage adjustment.",
                "New Zealand is moving to an administrative census from 2030.",
            ),
            "emma": (
                "Learning how other offices use integrated data in the census.",
                "2026, traditional with a strong online response; integrated data used for quality.",
            ),
            "nuwan": (
                "Learning from offices that use registers for the census frame.",
                "Sri Lanka's next census is planned for 2032; traditional, with a GIS-based frame.",
            ),
        },
    ),
    CommunityPlan(
        slug="disaster-statistics",
        name="Disaster-related Statistics",
        description=(
            "National statistics offices, disaster management agencies and partners producing statistics on "
            "hazards, exposure, damage and losses, in line with the Disaster-related Statistics Framework "
            "and the Sendai Framework indicators."
        ),
        guidelines=COMMON_GUIDELINES
        + "- During an active emergency, keep threads factual and point to official sources.\n",
        questions=[
            "What do you want to get out of this community?",
            "Which hazards matter most for your country or region?",
        ],
        admins=["farhana"],
        moderators=["mereoni"],
        focal_points=["mereoni", "jeanpierre"],
        spaces=[
            SpacePlan(
                "forum",
                "Disaster statistics forum",
                OPEN,
                EDITOR,
                "Open discussion on measuring disasters: damage and loss, affected population and the "
                "basic range of disaster-related statistics.",
                members=[
                    ("mereoni", MODERATOR),
                    ("jeanpierre", EDITOR),
                    ("losaline", EDITOR),
                    ("lan", EDITOR),
                    ("priya", VIEWER),
                    ("mark", EDITOR),
                ],
                bans=[("mark", "Repeated unsolicited advertising of commercial software after two warnings.")],
            ),
            SpacePlan(
                "sendai-reporting",
                "Sendai Framework indicator reporting",
                PRIVATE,
                VIEWER,
                "Offices reporting Sendai Framework indicators compare methods, data sources and the "
                "validation of their submissions.",
                members=[("losaline", EDITOR), ("priya", VIEWER), ("duc", VIEWER)],
                pending_requests=[
                    (
                        "jeanpierre",
                        "Our bureau takes over Sendai reporting from the NDMO (Vanuatu) this year.",
                    )
                ],
                declined_requests=[
                    (
                        "mark",
                        "We would like to present our dashboard product for Sendai reporting.",
                        "This space is for offices that report the Sendai indicators; the open forum is the "
                        "place for general discussion.",
                    )
                ],
            ),
            SpacePlan(
                "loss-task-team",
                "Task team on disaster loss accounts",
                CLOSED,
                EDITOR,
                "Task team testing damage and loss accounts linked to the national accounts in three pilot countries.",
                members=[("mereoni", ADMIN), ("losaline", EDITOR), ("jeanpierre", EDITOR), ("lan", VIEWER)],
            ),
        ],
        answers={
            "farhana": (
                "A regional network to compare disaster statistics methods.",
                "Floods, cyclones and riverbank erosion.",
            ),
            "mereoni": (
                "Practical help for small offices that must produce statistics right after a disaster.",
                "Tropical cyclones, flooding and sea-level rise.",
            ),
            "jeanpierre": (
                "Templates for rapid damage assessments we can reuse.",
                "Cyclones, volcanic eruptions and earthquakes.",
            ),
            "losaline": (
                "Bringing Pacific offices into regional methods work.",
                "Cyclones, tsunamis and drought across the Pacific Islands.",
            ),
            "lan": (
                "Making sure population data is used in preparedness and response.",
                "Climate-related hazards affecting vulnerable populations across the region.",
            ),
            "priya": (
                "Learning how remote sensing is used to estimate damage.",
                "Floods, cyclones, heatwaves and earthquakes.",
            ),
            "duc": (
                "Understanding how to report Sendai indicators from administrative records.",
                "Typhoons, floods and landslides.",
            ),
            "mark": ("Meeting potential clients for our dashboards.", "All of them."),
        },
    ),
]


def _participants(plan: CommunityPlan) -> list[str]:
    """Everyone who joins, asks to join or is named in the community: they are onboarded first."""
    keys: list[str] = [*plan.admins, *plan.moderators]
    for space in plan.spaces:
        keys += [key for key, _role in space.members]
        keys += [key for key, _message in space.pending_requests]
        keys += [key for key, _message, _response in space.declined_requests]
    return list(dict.fromkeys(keys))


# --- Pages, files, comments and watches -----------------------------------------------------------------
@dataclass
class Edit:
    """One saved version: who, the Markdown body, the edit summary. ``{{inline:NAME}}`` and
    ``{{download:NAME}}`` are replaced with the URLs of the space's file of that name."""

    author: str
    body: str
    summary: str


@dataclass
class Restore:
    """A version that restores an earlier one (written by ``page_restore_version``)."""

    author: str
    version: int


@dataclass
class FilePlan:
    name: str
    author: str
    content: Callable[[], bytes]
    description: str = ""
    new_versions: list[tuple[str, Callable[[], bytes], str]] = field(default_factory=list)  # (key, content, note)


@dataclass
class PagePlan:
    title: str
    versions: list[Edit | Restore]  # the first is an Edit: the page's creation
    parent: str | None = None  # title of the parent page, created earlier in the same space
    attachments: list[FilePlan] = field(default_factory=list)  # uploaded right after the first version
    comments: list[tuple[str, str, int | None]] = field(default_factory=list)  # (key, body, index replied to)
    restricted_to: list[str] = field(default_factory=list)  # named viewers (author and admins see it too)
    restricted_editors: list[str] = field(default_factory=list)
    watchers: list[str] = field(default_factory=list)


@dataclass
class ContentPlan:
    community: str
    space: str
    admin: str = ""  # who saves the templates (an admin of the space)
    templates: list[tuple[str, str, str]] = field(default_factory=list)  # (name, description, body)
    files: list[FilePlan] = field(default_factory=list)  # the space's file library
    pages: list[PagePlan] = field(default_factory=list)  # parents before their subpages
    watchers: list[str] = field(default_factory=list)  # people watching the whole space


def _pdf(title: str, lines: list[str]) -> bytes:
    """A small, valid one-page PDF (Helvetica text), with a correct cross-reference table."""

    def text(value: str) -> str:
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    operators = ["BT", "/F1 15 Tf", "56 780 Td", f"({text(title)}) Tj", "/F1 10 Tf", "0 -26 Td"]
    for line in lines:
        operators += [f"({text(line)}) Tj", "0 -15 Td"]
    operators.append("ET")
    stream = "\n".join(operators).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


LINKAGE_RATES = [("Tax", 96), ("Civil reg.", 89), ("Social sec.", 93), ("Education", 81), ("Health", 86)]


def _linkage_chart_png() -> bytes:
    """A small bar chart (share of records linked to the population spine, by source) drawn with Pillow."""
    width, height, left, bottom = 420, 220, 40, 190
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 6), "Records linked to the population spine (%), illustrative", fill="#222222")
    draw.line((left, 30, left, bottom), fill="#555555")
    draw.line((left, bottom, width - 10, bottom), fill="#555555")
    for tick in (0, 50, 100):
        y = bottom - tick * 1.5
        draw.text((8, y - 6), str(tick), fill="#555555")
    bar, gap = 52, 20
    for i, (label, rate) in enumerate(LINKAGE_RATES):
        x = left + gap + i * (bar + gap)
        draw.rectangle((x, bottom - rate * 1.5, x + bar, bottom - 1), fill="#1f6f8b")
        draw.text((x + 2, bottom - rate * 1.5 - 13), f"{rate}", fill="#222222")
        draw.text((x, bottom + 6), label, fill="#222222")
    buffer = BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _guidelines_pdf() -> bytes:
    return _pdf(
        "Regional guidelines on integrating administrative data for official statistics",
        [
            "Draft for consultation - Data Integration community of practice, 2026",
            "",
            "1. Purpose and scope",
            "These guidelines help national statistics offices in Asia and the Pacific use administrative",
            "registers (tax, civil registration, social protection, education, health) in regular",
            "statistical production.",
            "",
            "2. Principles",
            "- Statistical use only: linked data are never used for decisions about individuals.",
            "- Transparency: sources, methods and linkage quality are documented and published.",
            "- Proportionality: identifiers are kept only as long as the linkage needs them.",
            "",
            "3. Steps",
            "Inventory of sources; access agreements; quality assessment; linkage; evaluation; publication.",
            "",
            "4. Case studies",
            "Indonesia (village registry linkage), the Philippines (CRVS and census), Republic of Korea",
            "(register-based census), Australia (PLIDA) and New Zealand (IDI).",
        ],
    )


_INVENTORY_HEADER = "country,office,source,custodian,unit,frequency,linkage_key,used_for\n"
_INVENTORY_ROWS = (
    "Indonesia,BPS,Village potential census (Podes),BPS,village,about every three years,village code,"
    "small-area statistics\n"
    "Indonesia,BPS,Population administration (Dukcapil),Ministry of Home Affairs,person,continuous,NIK,"
    "population estimates\n"
    "Philippines,PSA,Civil registration,PSA (Civil Registrar General),event,continuous,"
    "name + date + place,registration completeness\n"
    "Philippines,PSA,PhilSys register,PSA,person,continuous,PhilSys number,census frame (pilot)\n"
    "Australia,ABS,PLIDA,ATO; Services Australia; Department of Health,person,annual,linkage spine,"
    "integrated analysis\n"
)
_INVENTORY_ROWS_ADDED = (
    '"Korea, Republic of",Statistics Korea,Resident registration,Ministry of the Interior and Safety,person,'
    "continuous,resident registration number,register-based census\n"
    "New Zealand,Stats NZ,Integrated Data Infrastructure (IDI),IRD; MSD; Ministry of Health,person,"
    "quarterly,IDI spine,administrative population census\n"
)


def _inventory_v1() -> bytes:
    return (_INVENTORY_HEADER + _INVENTORY_ROWS).encode()


def _inventory_v2() -> bytes:
    return (_INVENTORY_HEADER + _INVENTORY_ROWS + _INVENTORY_ROWS_ADDED).encode()


TEMPLATE_MEETING_NOTES = """\
- **Date:**
- **Participants:**
- **Apologies:**

## Agenda
1. (item)

## Discussion

## Decisions

## Actions
| What | Who | By when |
|---|---|---|
| | | |
"""

TEMPLATE_CASE_STUDY = """\
## Summary
One paragraph: what the office did and what changed as a result.

## Context
The office, the country and the statistical need.

## Data sources
| Source | Custodian | Unit | Frequency |
|---|---|---|---|
| | | | |

## Method

## Results

## Lessons learned

## Contact
Who to ask for details (name, office, e-mail).
"""

TEMPLATE_COUNTRY_EXPERIENCE = """\
## Country and office

## What we tried

## What worked

## What did not work

## What we would do differently

## Documents
Attach reports or presentations to this page.
"""

GUIDE_INTRO = """\
This guide collects what offices in Asia and the Pacific have learned about bringing administrative data \
into regular statistical production. It is written for methodologists and managers starting a programme; \
the case studies below it show the steps in practice.

## Why integrate administrative data

- **Lower cost and response burden**: the registers exist already, so nobody is asked the same question twice.
- **More detail**: full coverage supports small-area and small-group statistics that surveys cannot.
- **Timeliness**: many registers are updated monthly or continuously.
"""

GUIDE_STEPS = """\
## Steps

1. Make an inventory of the sources, their custodians and the legal basis for access.
2. Agree access with each custodian in writing (see the checklist below).
3. Assess quality: coverage, definitions, reference dates, timeliness.
4. Link the sources, evaluate the linkage and document every decision.
"""

GUIDE_STEPS_REVISED = """\
## Steps

1. **Inventory**: list the sources, their custodians, units, update frequency and the legal basis for access.
2. **Access**: agree it with each custodian in writing; the checklist below lists what to cover.
3. **Quality**: assess coverage, definitions, reference dates and timeliness against your statistical needs.
4. **Linkage**: choose deterministic or probabilistic linkage, and keep a log of every decision.
5. **Evaluation**: measure linkage error before anything is published.
"""

GUIDE_SOURCES = """\
## Data sources in use

| Office | Source | Custodian | Linkage key | Used for |
|---|---|---|---|---|
| BPS Indonesia | Village potential census, population administration | BPS, Ministry of Home Affairs | \
Village code, NIK | Small-area statistics |
| PSA Philippines | Civil registration, PhilSys | PSA | PhilSys number | \
Registration completeness, census frame |
| ABS Australia | Tax, social security, health (PLIDA) | ATO, Services Australia, Department of Health | \
Linkage spine | Integrated analysis |

The full inventory, with more offices, is the CSV file in the library. The chart shows the share of \
records linked to the population spine, by source (illustrative figures from the 2025 workshop).

![Records linked to the population spine, by source]({{inline:linkage-rates-2025.png}})
"""

GUIDE_SOURCES_KOREA = GUIDE_SOURCES.replace(
    "\n\nThe full inventory",
    "\n| Statistics Korea | Resident registration, building register | Ministry of the Interior and Safety | "
    "Resident registration number | Register-based census |\n\nThe full inventory",
)

GUIDE_KOREA = """\
## From a traditional to a register-based census

Statistics Korea moved to a register-based census in 2015, after several years of preparation: the \
registers now give the population and housing counts every year, and a sample survey every five years \
collects what the registers do not hold (commuting, for example). Most of the preparation went into \
agreements with custodians and into the rules for resolving conflicts between registers.

Access rules matter as much as methods: the ABS [Five Safes framework][five-safes] is one way of deciding \
who may use linked data, and how.

[five-safes]: https://www.abs.gov.au/about/data-services/data-confidentiality-guide/five-safes-framework
"""

GUIDE_QUALITY = """\
## Quality checks before publishing

- Compare register counts with the last census or survey estimates, by area, sex and age group.
- Estimate false-match and missed-match rates from a clerical review sample.
- Check that the linked population is not biased: groups that link less often (recent migrants, \
people without a fixed address) should be reported.

## Further reading

- [Regional guidelines on integrating administrative data (draft)]\
({{download:regional-guidelines-admin-data-draft.pdf}}), in the file library
- The case studies and the checklist below this page
- [ESCAP Statistics Division](https://www.unescap.org/our-work/statistics)
"""

INDONESIA_V1 = """\
## Summary
BPS links the village potential census (Podes) with the population administration data of the Ministry of \
Home Affairs (Dukcapil) through a common village code, to produce village-level indicators between censuses.

## Context
Indonesia has more than 80,000 villages. Village codes change when villages split or merge, so the same \
code can mean different areas in different years.

## Data sources
| Source | Custodian | Unit | Frequency |
|---|---|---|---|
| Village potential census (Podes) | BPS | Village | About every three years |
| Population administration (Dukcapil) | Ministry of Home Affairs | Person, household | Continuous |
| Master file of villages | BPS | Village | Every semester |

## Method
1. Harmonise village codes with the BPS master file of villages, using its split and merge history.
2. Aggregate the population register to villages.
3. Compare with Podes counts and flag villages that differ by more than 10 %.
"""

INDONESIA_V2 = (
    INDONESIA_V1
    + """
## Results
After harmonisation the codes matched for almost all villages; most of the others were villages created \
after the last update of the master file.

## Lessons learned
- Keep a history table of code changes: every linkage needs it.
- Agree the reference date with the custodian before the extract is made.

## Contact
Agus Wibowo, Statistics Indonesia (BPS).
"""
)

PHILIPPINES_V1 = """\
## Summary
The Philippine Statistics Authority (PSA) is both the civil registrar general and the census agency. It \
compares birth registrations with census counts to estimate registration completeness, and is testing the \
PhilSys national ID register as a frame for the next census.

## Data sources
| Source | Custodian | Unit | Frequency |
|---|---|---|---|
| Civil registration (births, deaths, marriages) | PSA (Civil Registrar General) | Event | Continuous |
| 2020 Census of Population and Housing | PSA | Person, household | Every ten years, mid-decade count |
| PhilSys register | PSA | Person | Continuous |

## Method
1. Match census records of children under one to birth registrations (name, sex, date and place of birth).
2. Estimate completeness by region and province.
3. Test PhilSys registrations as a listing frame in pilot barangays.

## Lessons learned
- Late registration is common: allow for it before calling a birth unregistered.
- One agency holding both sources makes access simpler, not matching: names are spelled in many ways.
"""

PHILIPPINES_V2 = (
    PHILIPPINES_V1
    + """
## Compared with other offices
Statistics Korea's register-based census rests on a resident register that people must update when they \
move. The PhilSys pilots test the same question from the other side: does a register built for \
identification cover everyone who lives in an area, at the address where they live?
"""
)

CHECKLIST_V1 = """\
Use this checklist when drafting an agreement with the custodian of an administrative source.

## Before drafting
- Name the legal basis for access: the statistics act, a regulation or a memorandum of understanding.
- Agree the purpose: statistical use only, never decisions about individuals.

## What the agreement covers
1. Data items, reference periods and the delivery schedule.
2. Identifiers: which are delivered, which are replaced by a linkage key, and who holds the key.
3. Security: where the data are stored and who may access them.
4. Retention: how long identifiable data are kept, and when and how they are destroyed.
5. Publication: the disclosure-control rules the custodian expects.
6. A review date and contacts on both sides.

## After signing
- Keep a register of agreements with their review dates.
- Tell the custodian each year what the data were used for.
"""

CHECKLIST_SHORT = """\
Cover at least:

1. Data items, reference periods and delivery schedule.
2. Identifiers and linkage keys.
3. Security and access.
4. Publication rules.
"""

PROTOCOL_V1 = """\
**Status:** draft for the task team only, not for circulation.

## Scope
Linkage of person-level records between the population register, tax records and the census, for \
statistical purposes only.

## Privacy-preserving linkage
1. Each custodian replaces names and dates of birth with keyed hashes (Bloom filter encodings) before \
delivery.
2. A trusted third party holds the key and computes match weights on the encodings only.
3. Linked records are returned to the statistics office with a project-specific identifier.

## Open questions
- Who acts as the trusted third party where the statistics office is the only candidate?
"""

PROTOCOL_V2 = (
    PROTOCOL_V1
    + """- How long may the encodings be kept between annual linkage runs?

## Quality measures to report
| Measure | How it is estimated |
|---|---|
| Linkage rate | Linked records over records in the smaller file |
| False-match rate | Clerical review of a sample of links |
| Missed-match rate | Review of unlinked pairs near the threshold |
"""
)

MEETING_NOTES = """\
- **Date:** 4 February 2026
- **Participants:** Emma Whitfield (chair), Aroha Ngata, Agus Wibowo, Ji-yeon Park
- **Apologies:** Priya Nair

## Agenda
1. Outline of the regional guidelines
2. Draft linkage protocol
3. Timeline for the Committee session

## Decisions
- The protocol stays restricted to the drafting group until the custodians have commented.

## Actions
| What | Who | By when |
|---|---|---|
| Circulate the outline | Emma | 18 February |
| Add quality measures to the protocol | Aroha | 4 March |
"""

CAPI_V1 = """\
## Summary
Most censuses of the 2020 round in Asia and the Pacific used tablets or smartphones for at least part of \
the enumeration. This page collects practical lessons for offices preparing the 2030 round.

## Lessons
- **Procure early**: tenders, delivery and configuration of devices took longer than planned almost \
everywhere.
- **Test the questionnaire application in the field**, not only in the office, and with the real devices.
- **Plan for charging and connectivity** in remote areas: power banks, offline maps and synchronisation \
whenever a signal is available.
- **Monitor progress daily** with a dashboard of completed households by enumeration area.
"""

CAPI_V2 = (
    CAPI_V1
    + """
## Pacific experience
Small island offices often reuse census tablets for later household surveys, which spreads the cost. \
Shipping, customs and inter-island transport take longer than expected: order devices at least a year \
before the census, and keep spares on every island.
"""
)

PES_V1 = """\
## Purpose
A post-enumeration survey (PES) measures census coverage (people missed or counted twice) and, optionally, \
the quality of selected answers.

## Design choices
| Choice | Options | Notes |
|---|---|---|
| Timing | One to three months after enumeration | Later means more movers and more recall error |
| Sample | Enumeration areas, stratified | Include hard-to-count areas |
| Matching | Clerical, computer-assisted | Budget for clerical review |
| Independence | Separate staff and listing | Never send enumerators back to their own areas |
"""

PES_V2 = (
    PES_V1
    + """
## Estimation
Coverage is estimated with dual-system estimation in each stratum: the census and the PES are treated as \
two independent captures of the same population. Report the estimates with their confidence intervals, \
and by age and sex: young men and infants are the groups most often missed.
"""
)

CYCLONE_V1 = """\
A checklist for producing the first damage statistics in the weeks after a tropical cyclone, written for \
offices with a small team.

## In the first week
1. Agree with the disaster management office which figures the statistics office will compile.
2. Reuse the latest census frame: enumeration areas, household counts and dwelling types.
3. Collect damage by dwelling with a short form (destroyed, damaged, not affected).

## In the first month
- Estimate the affected population by area from the dwelling counts.
- Publish with clear notes on coverage: areas not yet reached are reported as such, not as zero.
"""

CYCLONE_V2 = (
    CYCLONE_V1
    + """
## Experience: Vanuatu, 2023
After the two cyclones of March 2023 the bureau and the disaster management office shared one damage form, \
which avoided asking households twice. Tablets from the census were reused for the assessment.
"""
)

GLOSSARY_V1 = """\
Short definitions used in this community, following the Disaster-related Statistics Framework.

- **Hazard**: a process or phenomenon that may cause loss of life, injury, damage or disruption.
- **Exposure**: people, infrastructure, housing and other assets located in hazard-prone areas.
- **Vulnerability**: conditions that increase the susceptibility of people or assets to the impacts of \
hazards.
- **Damage**: total or partial destruction of physical assets, measured in physical units.
- **Loss**: changes in economic flows caused by the disaster, such as lost production or income.
"""

GLOSSARY_V2 = (
    GLOSSARY_V1
    + """- **Affected people**: people whose lives, livelihoods or assets were harmed by the disaster \
(Sendai Framework indicator B-1).
"""
)

CONTENT = [
    ContentPlan(
        community="data-integration",
        space="good-practices",
        admin="siti",
        templates=[
            ("Meeting notes", "Date, participants, agenda, decisions and actions.", TEMPLATE_MEETING_NOTES),
            (
                "Good-practice case study",
                "For the library: context, sources, method, results and lessons.",
                TEMPLATE_CASE_STUDY,
            ),
            (
                "Country experience",
                "A shorter account of what one office tried and learned.",
                TEMPLATE_COUNTRY_EXPERIENCE,
            ),
        ],
        files=[
            FilePlan(
                "regional-guidelines-admin-data-draft.pdf",
                "siti",
                _guidelines_pdf,
                "Draft regional guidelines on integrating administrative data, for consultation.",
            ),
            FilePlan(
                "admin-data-sources-inventory.csv",
                "agus",
                _inventory_v1,
                "Inventory of administrative sources used by offices in the community.",
                new_versions=[("jiyeon", _inventory_v2, "Added the Republic of Korea and New Zealand.")],
            ),
        ],
        pages=[
            PagePlan(
                "Integrating administrative data: a guide",
                [
                    Edit("emma", f"{GUIDE_INTRO}\n{GUIDE_STEPS}", "First outline, from the 2025 workshop"),
                    Edit(
                        "agus",
                        f"{GUIDE_INTRO}\n{GUIDE_STEPS}\n{GUIDE_SOURCES}",
                        "Added the table of data sources and the linkage-rate chart",
                    ),
                    Edit(
                        "jiyeon",
                        f"{GUIDE_INTRO}\n{GUIDE_STEPS}\n{GUIDE_SOURCES_KOREA}\n{GUIDE_KOREA}",
                        "Added Korea's register-based census and a link to the Five Safes",
                    ),
                    Edit(
                        "siti",
                        f"{GUIDE_INTRO}\n{GUIDE_STEPS_REVISED}\n{GUIDE_SOURCES_KOREA}\n{GUIDE_KOREA}\n{GUIDE_QUALITY}",
                        "Expanded the steps; added quality checks and further reading",
                    ),
                ],
                attachments=[
                    FilePlan(
                        "linkage-rates-2025.png",
                        "agus",
                        _linkage_chart_png,
                        "Share of records linked, by source (illustrative figures).",
                    )
                ],
                comments=[
                    (
                        "agus",
                        "Should we add a row for Viet Nam's national population database? "
                        "Tran Minh Duc described it in the help desk last month.",
                        None,
                    ),
                    (
                        "emma",
                        "Yes, good idea. I will ask Duc for the custodian and the linkage key and add it in "
                        "the next revision.",
                        0,
                    ),
                    (
                        "jiyeon",
                        "The chart uses the 2025 workshop figures. Korea's **2025 register-based census** "
                        "results are published in July; I will update our bar then.",
                        None,
                    ),
                ],
                watchers=["duc", "emma"],
            ),
            PagePlan(
                "Case study: Indonesia's village registry linkage",
                [
                    Edit("agus", INDONESIA_V1, "First draft from the BPS workshop presentation"),
                    Edit("siti", INDONESIA_V2, "Added results, lessons learned and a contact"),
                ],
                parent="Integrating administrative data: a guide",
            ),
            PagePlan(
                "Case study: Philippines CRVS and census",
                [
                    Edit("emma", PHILIPPINES_V1, "Drafted from PSA's presentation, checked with Ramon"),
                    Edit("jiyeon", PHILIPPINES_V2, "Added a comparison with Korea's resident register"),
                ],
                parent="Integrating administrative data: a guide",
                watchers=["ramon"],
            ),
            PagePlan(
                "Checklist for data-sharing agreements",
                [
                    Edit("jiyeon", CHECKLIST_V1, "Checklist used by Statistics Korea, generalised"),
                    Edit("agus", CHECKLIST_SHORT, "Shortened to one screen"),
                    Restore("jiyeon", 1),
                ],
                parent="Integrating administrative data: a guide",
                comments=[
                    (
                        "jiyeon",
                        "I restored the full version: the short one dropped the retention clause, which "
                        "custodians always ask about.",
                        None,
                    ),
                    ("agus", "Agreed, thanks. Retention was the first question our tax office asked.", 0),
                ],
            ),
        ],
        watchers=["priya", "agus"],
    ),
    ContentPlan(
        community="data-integration",
        space="linkage-task-team",
        pages=[
            PagePlan(
                "Draft linkage protocol (restricted)",
                [
                    Edit("emma", PROTOCOL_V1, "First draft for the drafting group"),
                    Edit("aroha", PROTOCOL_V2, "Added quality measures and an open question on retention"),
                ],
                comments=[
                    (
                        "agus",
                        "BPS could test the Bloom filter encodings on the village registry before March.",
                        None,
                    )
                ],
                restricted_to=["aroha", "agus"],
                restricted_editors=["aroha"],
                watchers=["agus"],
            ),
            PagePlan(
                "Meeting notes: task team call, 4 February 2026",
                [Edit("aroha", MEETING_NOTES, "Notes of the call")],
            ),
        ],
        watchers=["emma"],
    ),
    ContentPlan(
        community="census-innovation",
        space="good-practices",
        pages=[
            PagePlan(
                "Tablet-based enumeration (CAPI): lessons from the 2020 round",
                [
                    Edit("lan", CAPI_V1, "Lessons collected at the regional census workshop"),
                    Edit("losaline", CAPI_V2, "Added Pacific experience"),
                ],
                comments=[
                    (
                        "losaline",
                        "Samoa and Tonga would welcome a short note on procuring devices for the 2030 round.",
                        None,
                    )
                ],
                watchers=["faamanu"],
            ),
            PagePlan(
                "Post-enumeration survey: design notes",
                [
                    Edit("losaline", PES_V1, "Design choices, from SPC's census support"),
                    Edit("lan", PES_V2, "Added a section on estimation"),
                ],
            ),
        ],
        watchers=["sabin"],
    ),
    ContentPlan(
        community="disaster-statistics",
        space="forum",
        pages=[
            PagePlan(
                "Rapid damage statistics after a cyclone: a checklist for small offices",
                [
                    Edit("mereoni", CYCLONE_V1, "Checklist drawn from Fiji's experience after TC Winston"),
                    Edit("jeanpierre", CYCLONE_V2, "Added Vanuatu's experience of the 2023 cyclones"),
                ],
                comments=[
                    (
                        "losaline",
                        "Could we add a line on reusing the census **dwelling listing** as the damage frame?",
                        None,
                    ),
                    ("mereoni", "Yes, it is step 2 now; I will add an example from Fiji.", 0),
                ],
                watchers=["jeanpierre"],
            ),
            PagePlan(
                "Glossary: hazard, exposure, vulnerability, damage and loss",
                [
                    Edit("farhana", GLOSSARY_V1, "Definitions from the Disaster-related Statistics Framework"),
                    Edit("losaline", GLOSSARY_V2, "Added affected people (Sendai indicator B-1)"),
                ],
            ),
        ],
        watchers=["lan"],
    ),
]

_FILE_TOKEN = re.compile(r"\{\{(inline|download):([^}]+)\}\}")


# --- The seeding itself -------------------------------------------------------------------------------------
def _forget(*users) -> None:
    """Drop the per-request caches of roles, as a new request would (the seed acts as many requests)."""
    space_permissions.forget_access_context(*users)
    community_permissions.forget_community_roles(*users)


@contextmanager
def _quiet(*logger_names: str):
    """Celery (eager) logs each task it runs and kombu warns about the in-memory broker: not while seeding."""
    loggers = [logging.getLogger(name) for name in logger_names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


# --- Questions and answers (issue 4) ---------------------------------------------------------------------
@dataclass
class AnswerPlan:
    author: str
    body: str
    voters: list[str] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)  # (key, body)


@dataclass
class QuestionPlan:
    community: str
    space: str
    title: str
    author: str
    body: str
    tags: str = ""
    voters: list[str] = field(default_factory=list)
    answers: list[AnswerPlan] = field(default_factory=list)
    accepted: int | None = None  # index in ``answers`` of the accepted one (accepted by the asker)


QUESTIONS = [
    QuestionPlan(
        "data-integration",
        "linkage-help-desk",
        "How do we choose blocking variables for linking census and tax records?",
        "duc",
        "We link about 9 million census records to the tax register. Blocking on **postcode** misses "
        "people who moved; blocking on *year of birth* gives blocks that are far too large.\n\n"
        "What do other offices block on, and do you run several blocking passes?",
        tags="blocking, census, tax",
        voters=["agus", "aroha", "ramon"],
        answers=[
            AnswerPlan(
                "agus",
                "Run **several passes** and take the union of candidate pairs: (1) postcode + sex, "
                "(2) year of birth + first letter of surname (phonetic code), (3) municipality of birth + "
                "day of birth. Each pass catches what the others miss; measure pairs completeness on a "
                "clerically reviewed sample.",
                voters=["duc", "ramon", "priya"],
                comments=[("duc", "Thanks: how big was your clerical sample?"), ("agus", "About 2,000 pairs.")],
            ),
            AnswerPlan(
                "priya",
                "We had good results with sorted-neighbourhood on a Soundex key instead of strict blocks; "
                "window size 10 was enough for our 4 million records.",
                voters=["duc"],
            ),
        ],
        accepted=0,
    ),
    QuestionPlan(
        "data-integration",
        "linkage-help-desk",
        "Where should the m- and u-probabilities come from when we have no training data?",
        "aroha",
        "We are starting probabilistic linkage (Fellegi-Sunter) without any clerically reviewed pairs. "
        "Is the EM algorithm reliable enough, or should we review a sample first?",
        tags="probabilistic linkage, fellegi-sunter",
        voters=["priya"],
        answers=[
            AnswerPlan(
                "ramon",
                "EM works well when the matches are a reasonable share of the comparison space: block first. "
                "Then review a few hundred pairs around the threshold to check the estimates.",
                voters=["aroha"],
            )
        ],
    ),
    QuestionPlan(
        "data-integration",
        "linkage-help-desk",
        "Is there an open-source tool for clerical review of uncertain pairs?",
        "priya",
        "Our reviewers use spreadsheets. Has anyone deployed a small web tool for clerical review?",
        tags="clerical review, tools",
    ),
    QuestionPlan(
        "census-innovation",
        "good-practices",
        "How did you evaluate coverage of a register-based census?",
        "lan",
        "We plan a combined census for 2030. How did offices measure **under- and over-coverage** of the "
        "population register: post-enumeration survey, signs-of-life data, or both?",
        tags="coverage, register-based",
        voters=["losaline", "maria"],
        answers=[
            AnswerPlan(
                "losaline",
                "Both: signs-of-life (tax, health, education contacts in the last 12 months) removed "
                "over-coverage, and a small PES measured the remaining under-coverage.",
                voters=["lan", "baterdene"],
                comments=[("lan", "Which sources counted as signs of life?")],
            ),
            AnswerPlan("baterdene", "We used a dual-system estimate with a 1% area sample.", voters=["lan"]),
        ],
        accepted=0,
    ),
    QuestionPlan(
        "census-innovation",
        "good-practices",
        "Tablets or smartphones for census enumerators?",
        "losaline",
        "Any experience with enumerators' own smartphones versus office-issued tablets?",
        tags="digital data collection",
        voters=["lan"],
    ),
]


COUNTED = {
    "users": get_user_model(),
    "communities": Community,
    "community memberships": CommunityMembership,
    "onboardings": Onboarding,
    "intro answers": IntroAnswer,
    "spaces": Space,
    "space memberships": SpaceMembership,
    "join requests": JoinRequest,
    "invitations": Invitation,
    "bans": SpaceBan,
    "individual grants": SpaceUserObjectPermission,
    "pages": Page,
    "page versions": Page.history.model,
    "page templates": PageTemplate,
    "files": FileAsset,
    "file versions": FileVersion,
    "comments": Comment,
    "watches": Watch,
    "questions": Question,
    "answers": Answer,
    "votes": Vote,
    "events": Event,
    "registrations": Registration,
    "papers": Paper,
    "posts": Post,
    "courses": Course,
    "course enrolments": Enrolment,
    "conversations": Conversation,
    "direct messages": Message,
    "likes": Reaction,
    "polls": Poll,
    "poll votes": PollVote,
    "milestones": Milestone,
    "activity events": ActivityEvent,
}


class Seeder:
    def __init__(self) -> None:
        self.User = get_user_model()
        self.people: dict[str, object] = {}
        self.staff = None
        self._password_hash = ""

    @property
    def password_hash(self) -> str:
        """Hashed once and shared: hashing a password per account would make the seed take seconds longer."""
        if not self._password_hash:
            self._password_hash = make_password(DEMO_PASSWORD)
        return self._password_hash

    def run(self) -> None:
        for person in PEOPLE:
            self.people[person.key] = self.ensure_person(person)
        self.staff = self.people["admin"]
        for plan in COMMUNITIES:
            self.seed_community(plan)
        _forget()  # roles are settled now: every check below sees them
        for content in CONTENT:
            self.seed_content(content)
        for question_plan in QUESTIONS:
            self.ensure_question(question_plan)
        _forget()
        EngagementSeeder(self.people, _forget).run()
        _forget()
        self.seed_course_and_messages()
        _forget()
        ActivitySeeder(self).run()

    def seed_course_and_messages(self) -> None:
        """Issue 9: one course in the good practices library, and direct messages between members."""
        library = Space.objects.select_related("community").get(
            community__slug="data-integration", slug="good-practices"
        )
        learners = [self.people[key] for key in ("ramon", "duc", "priya", "jiyeon")]
        seed_demo_course(library, self.people["emma"], learners)
        seed_demo_messages([self.people[key] for key in ("ramon", "duc", "agus", "emma", "priya")])
        seed_demo_follows([self.people[key] for key in ("ramon", "duc", "agus", "emma", "priya", "jiyeon")])

    # People
    def ensure_person(self, person: Person):
        user = self.User.objects.filter(email__iexact=person.email).first()
        if user is None:
            user = self.User.objects.create_user(email=person.email, password=None, display_name=person.name)
            first, _sep, last = person.name.partition(" ")
            user.first_name, user.last_name = first, last
            user.password = self.password_hash
            # Demo members have been around for a while (new accounts are held to the spam limits).
            user.date_joined = timezone.now() - timedelta(days=400)
            user.save(update_fields=["first_name", "last_name", "password", "date_joined"])
            profile = user.profile
            profile.organisation = person.organisation
            profile.organisation_type = person.organisation_type
            profile.country = person.country
            profile.job_title = person.job_title
            profile.bio = person.bio
            profile.time_zone = person.time_zone
            profile.save()
            profile.expertise.set([Expertise.objects.get_or_create(name=name)[0] for name in person.expertise])
        if person.is_staff and not (user.is_staff and user.is_superuser):
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        if person.analyst and not user.user_permissions.filter(codename="view_analytics").exists():
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="members", codename="view_analytics")
            )
        address = EmailAddress.objects.filter(user=user, email__iexact=user.email).first()
        if address is None:
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        elif not (address.verified and address.primary):
            address.verified = address.primary = True
            address.save(update_fields=["verified", "primary"])
        return user

    # Communities
    def seed_community(self, plan: CommunityPlan) -> None:
        community = Community.objects.filter(slug__iexact=plan.slug).first()
        if community is None:
            community = community_services.community_create(
                actor=self.staff,
                name=plan.name,
                slug=plan.slug,
                description=plan.description,
                guidelines=plan.guidelines,
                time_zone="Asia/Bangkok",
                intro_questions=plan.questions,
            )
        for key in _participants(plan):
            self.ensure_onboarding(community, key, plan.answers[key])
        for keys, role in ((plan.admins, CommunityRole.ADMIN), (plan.moderators, CommunityRole.MODERATOR)):
            for key in keys:
                user = self.people[key]
                membership = CommunityMembership.objects.filter(community=community, user=user).first()
                if membership is None or membership.role == CommunityRole.MEMBER:
                    _forget(self.staff, user)
                    community_services.community_role_set(actor=self.staff, community=community, user=user, role=role)
        space_admin = self.people[plan.admins[0]]
        for space_plan in plan.spaces:
            self.seed_space(community, space_admin, space_plan)
        for key in plan.focal_points:
            user = self.people[key]
            membership = CommunityMembership.objects.filter(community=community, user=user).first()
            if membership is not None and not membership.is_focal_point:
                _forget(space_admin)
                community_services.focal_point_set(
                    actor=space_admin, community=community, user=user, is_focal_point=True
                )

    def ensure_onboarding(self, community: Community, key: str, answers: tuple[str, ...]) -> None:
        user = self.people[key]
        if community_services.onboarding_complete(user=user, community=community):
            return
        questions = list(community.intro_questions.all())
        by_question = {
            question.pk: answers[i] if i < len(answers) else "Looking forward to learning from colleagues."
            for i, question in enumerate(questions)
        }
        community_services.onboarding_submit(
            actor=user, community=community, accept_guidelines=True, answers=by_question
        )

    # Spaces
    def seed_space(self, community: Community, admin, plan: SpacePlan) -> None:
        space = Space.objects.filter(community=community, slug__iexact=plan.slug).first()
        if space is None:
            _forget(admin)
            space = space_services.space_create(
                actor=admin,
                community=community,
                name=plan.name,
                slug=plan.slug,
                description=plan.description,
                visibility=plan.visibility,
                default_role=plan.default_role,
            )
        for key, role in plan.members:
            self.ensure_member(space, admin, self.people[key], role)
        for key, message in plan.pending_requests:
            user = self.people[key]
            if not self._has_history(space, user):
                _forget(user)
                space_services.join_request_create(actor=user, space=space, message=message)
        for key, message, response in plan.declined_requests:
            user = self.people[key]
            if not self._has_history(space, user):
                _forget(user, admin)
                request = space_services.join_request_create(actor=user, space=space, message=message)
                space_services.join_request_decline(actor=admin, join_request=request, message=response)
        for email, role, message in plan.pending_invitations:
            if not Invitation.objects.filter(space=space, email__iexact=email).exists():
                _forget(admin)
                space_services.invitation_create(actor=admin, space=space, recipient=email, role=role, message=message)
        for key, reason in plan.bans:
            user = self.people[key]
            if not SpaceBan.objects.filter(space=space, user=user).exists():
                _forget(admin, user)
                space_services.member_ban(actor=admin, space=space, user=user, reason=reason)
        for key, role in plan.grants:
            user = self.people[key]
            if not SpaceUserObjectPermission.objects.filter(content_object=space, user=user).exists():
                _forget(admin, user)
                space_services.space_grant_role(actor=admin, space=space, user=user, role=role)
        if plan.archived and not space.is_archived:
            _forget(admin)
            space_services.space_set_archived(actor=admin, space=space, archived=True)

    # Pages, files, comments and watches
    def seed_content(self, plan: ContentPlan) -> None:
        space = Space.objects.select_related("community").get(community__slug=plan.community, slug__iexact=plan.space)
        if space.is_archived:
            return
        for name, description, body in plan.templates:
            if not PageTemplate.objects.filter(space=space, name__iexact=name).exists():
                space_services.page_template_save(
                    actor=self.people[plan.admin], space=space, name=name, body=body, description=description
                )
        for file_plan in plan.files:
            self.ensure_file(space, file_plan)
        for page_plan in plan.pages:
            self.ensure_page(space, page_plan)
        for key in plan.watchers:
            user = self.people[key]
            if not Watch.objects.filter(user=user, space=space).exists():
                space_services.watch_toggle(actor=user, space=space)

    def ensure_file(self, space: Space, plan: FilePlan, page: Page | None = None) -> FileAsset:
        """Upload the file unless the space has one of that name; then any versions it does not have yet."""
        name = sanitize_filename(plan.name, extension=split_filename(plan.name)[1])
        asset = FileAsset.objects.filter(space=space, name=name).first()
        if asset is None:
            asset = space_services.file_upload(
                actor=self.people[plan.author],
                space=space,
                page=page,
                upload=SimpleUploadedFile(plan.name, plan.content()),
                description=plan.description,
            )
        for number, (key, content, note) in enumerate(plan.new_versions, start=2):
            if asset.version_count < number:
                space_services.file_version_upload(
                    actor=self.people[key],
                    asset=asset,
                    upload=SimpleUploadedFile(plan.name, content()),
                    comment=note,
                )
        return asset

    def ensure_page(self, space: Space, plan: PagePlan) -> None:
        """Create the page with all its versions, unless the space has it already (by slug or title)."""
        slug = slugify(plan.title, allow_unicode=True)[:70]
        page = (
            Page.objects.filter(space=space).filter(Q(slug=slug) | Q(title=plan.title)).select_related("item").first()
        )
        if page is None:
            page = self.create_page(space, plan)
        for key in plan.watchers:
            user = self.people[key]
            if not Watch.objects.filter(user=user, item=page.item).exists():
                space_services.watch_toggle(actor=user, item=page.item)

    def create_page(self, space: Space, plan: PagePlan) -> Page:
        first, *later = plan.versions
        assert isinstance(first, Edit)
        parent = Page.objects.filter(space=space, title=plan.parent).first() if plan.parent else None
        author = self.people[first.author]
        page = space_services.page_create(
            actor=author,
            space=space,
            title=plan.title,
            body=self._fill(space, first.body),
            parent=parent,
            summary=first.summary,
        )
        for attachment in plan.attachments:
            self.ensure_file(space, attachment, page=page)
        for change in later:
            actor = self.people[change.author]
            if isinstance(change, Restore):
                page = space_services.page_restore_version(actor=actor, page=page, version=change.version)
            else:
                page = space_services.page_update(
                    actor=actor,
                    page=page,
                    title=plan.title,
                    body=self._fill(space, change.body),
                    base_version=page.version,
                    summary=change.summary,
                )
        if plan.restricted_to or plan.restricted_editors:
            space_services.page_set_restrictions(
                actor=author,
                page=page,
                viewers=[self.people[key] for key in plan.restricted_to],
                editors=[self.people[key] for key in plan.restricted_editors],
                restrict_view=bool(plan.restricted_to),
                restrict_edit=bool(plan.restricted_editors),
            )
        comments: list[Comment] = []
        for key, body, reply_to in plan.comments:
            comments.append(
                space_services.comment_create(
                    actor=self.people[key],
                    target=page.item,
                    body=body,
                    parent=comments[reply_to] if reply_to is not None else None,
                )
            )
        return page

    @staticmethod
    def _fill(space: Space, body: str) -> str:
        """Point ``{{inline:NAME}}`` and ``{{download:NAME}}`` at the space's file of that name."""

        def url(match: re.Match) -> str:
            kind, name = match.groups()
            asset = FileAsset.objects.get(space=space, name=name)
            view = "spaces:file-inline" if kind == "inline" else "spaces:file-download"
            return reverse(view, kwargs={"file_id": asset.pk, "filename": asset.name})

        return _FILE_TOKEN.sub(url, body)

    @staticmethod
    def _has_history(space: Space, user) -> bool:
        """Already a member, banned, or asked before (whatever the answer): leave them be."""
        return (
            SpaceMembership.objects.filter(space=space, user=user).exists()
            or SpaceBan.objects.filter(space=space, user=user).exists()
            or JoinRequest.objects.filter(space=space, user=user).exists()
        )

    # Questions and answers
    def ensure_question(self, plan: QuestionPlan) -> None:
        """Ask the question unless the space has it (by title); then its answers, votes, comments, acceptance."""
        space = Space.objects.select_related("community").get(community__slug=plan.community, slug=plan.space)
        question = Question.objects.filter(space=space, title=plan.title).select_related("item").first()
        if question is None:
            question = space_services.question_ask(
                actor=self.people[plan.author], space=space, title=plan.title, body=plan.body, tags=plan.tags
            )
        self.ensure_votes(question.item, plan.voters)
        answers = []
        for answer_plan in plan.answers:
            author = self.people[answer_plan.author]
            answer = question.answers.filter(item__author=author).select_related("item").first()
            if answer is None:
                answer = space_services.answer_post(actor=author, question=question, body=answer_plan.body)
            self.ensure_votes(answer.item, answer_plan.voters)
            for key, body in answer_plan.comments:
                if not Comment.objects.filter(target=answer.item, item__author=self.people[key], body=body).exists():
                    space_services.comment_create(actor=self.people[key], target=answer.item, body=body)
            answers.append(answer)
        if plan.accepted is not None and question.accepted_answer_id is None:
            question.refresh_from_db()
            space_services.answer_accept(
                actor=self.people[plan.author], question=question, answer=answers[plan.accepted]
            )

    def ensure_votes(self, item, voters: list[str]) -> None:
        for key in voters:
            if not Vote.objects.filter(user=self.people[key], item=item).exists():
                space_services.vote_cast(actor=self.people[key], item=item)

    def ensure_member(self, space: Space, admin, user, role: int) -> None:
        """Join the way the space's visibility allows, then give the planned role (only when newly joined)."""
        if SpaceBan.objects.filter(space=space, user=user).exists():
            return
        if SpaceMembership.objects.filter(space=space, user=user).exists() or space.is_archived:
            return
        _forget(admin, user)
        # Community moderators and admins already take part everywhere: they are added by invitation.
        has_role = space_permissions.space_role(user, space) is not None
        if space.visibility == Visibility.OPEN and not has_role:
            membership = space_services.space_join(actor=user, space=space)
        elif space.visibility == Visibility.PRIVATE and not has_role:
            request = space_services.join_request_create(
                actor=user, space=space, message=f"I would like to join {space.name} on behalf of my office."
            )
            membership = space_services.join_request_approve(actor=admin, join_request=request, message="Welcome!")
        else:
            invitation = space_services.invitation_create(
                actor=admin,
                space=space,
                recipient=user.email,
                role=role,
                message=f"Welcome to {space.name}: we would value your office's experience.",
            )
            _forget(user)
            membership = space_services.invitation_accept(actor=user, token=invitation.token)
        if membership.role != role:
            _forget(admin, user)
            space_services.membership_change_role(actor=admin, membership=membership, role=role)


class Command(BaseCommand):
    help = (
        "Build a realistic demo platform (people, communities, spaces, roles, pending items, pages, files, "
        "comments, questions and answers). Idempotent."
    )

    def handle(self, *args, **options) -> None:
        before = {label: model.objects.count() for label, model in COUNTED.items()}
        # Invitation and decision e-mails go to memory, not the console, while seeding. The services send them
        # after the transaction commits, so the backend is restored only once the atomic block has exited.
        previous_backend = settings.EMAIL_BACKEND
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        try:
            with _quiet("celery", "celery.app.trace", "kombu", "kombu.connection"), transaction.atomic():
                Seeder().run()
        finally:
            settings.EMAIL_BACKEND = previous_backend
        created = {label: model.objects.count() - before[label] for label, model in COUNTED.items()}
        self.print_summary(created)

    def print_summary(self, created: dict[str, int]) -> None:
        out = self.stdout
        changes = ", ".join(f"{n} {label}" for label, n in created.items() if n)
        out.write(f"Demo data: created {changes}." if changes else "Demo data already present: nothing changed.")
        out.write("")
        out.write(f"Demo logins (every account's password: {DEMO_PASSWORD})")
        rows = [(person.email, person.name, person.demo) for person in PEOPLE]
        rows.append((NO_ACCOUNT_INVITEE[0], "Kenji Tanaka", NO_ACCOUNT_INVITEE[1]))
        widths = [max(len(row[i]) for row in [("E-mail", "Name", ""), *rows]) for i in range(2)]
        out.write(f"{'E-mail'.ljust(widths[0])}  {'Name'.ljust(widths[1])}  What they are")
        out.write(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 13}")
        for email, name, demo in rows:
            out.write(f"{email.ljust(widths[0])}  {name.ljust(widths[1])}  {demo}")
