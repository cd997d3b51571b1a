"""Integer codes used inside the simulator for the contracts' code lists.

Each tuple lists the contract values in code order, so ``NAMES[code]`` is the
string written to the table. Keep them aligned with ``features/sources``; a test
checks every tuple against its contract.
"""

from __future__ import annotations

CUSTOMS_REASONS = (
    "INITIAL",
    "AEO_CERTIFIED",
    "ART22_1_SMUGGLING_CRIME",
    "ART22_2_SMUGGLING_ADMIN",
    "ART22_3_REPEATED_PENALTIES",
    "ART22_4_TAX_OVERDUE",
    "ART22_5_FINE_OVERDUE",
    "REPAIR_AUTO_2Y",
    "REPAIR_APPLICATION",
    "AEO_REVOKED",
    "REGIME_TRANSITION",
)
CR = {name: i for i, name in enumerate(CUSTOMS_REASONS)}

SAFE_REASONS = (
    "INITIAL",
    "ANNUAL_REVIEW",
    "GOODS_FUNDS_MISMATCH",
    "REPORTING_FAILURE",
    "SERIOUS_VIOLATION",
    "B_PERSISTED",
    "CLASS_RESTORED",
)
SR = {name: i for i, name in enumerate(SAFE_REASONS)}

TAX_STATUS = ("NORMAL", "ABNORMAL", "ABSCONDED", "DEREGISTERED")
TS = {name: i for i, name in enumerate(TAX_STATUS)}

SAMR_STATUS = ("IN_BUSINESS", "REVOKED", "CANCELLED", "MOVED_OUT")
MS = {name: i for i, name in enumerate(SAMR_STATUS)}

ABNORMAL_CAUSES = (
    "ANNUAL_REPORT_MISSING",
    "ORDERED_INFO_NOT_PUBLISHED",
    "FALSE_INFORMATION",
    "UNREACHABLE",
)
AC = {name: i for i, name in enumerate(ABNORMAL_CAUSES)}
ABNORMAL_REMOVAL = ("REPAIRED", "ESCALATED")
AR = {name: i for i, name in enumerate(ABNORMAL_REMOVAL)}

SERIOUS_CAUSES = ("HEAVIER_PENALTY", "ABNORMAL_3_YEARS")
SC = {name: i for i, name in enumerate(SERIOUS_CAUSES)}
SERIOUS_REMOVAL = ("EXPIRED", "EARLY_REPAIR")
SRM = {name: i for i, name in enumerate(SERIOUS_REMOVAL)}

PENALTY_CATEGORIES = (
    "SMUGGLING_CRIME",
    "SMUGGLING_ADMIN",
    "SUPERVISION_VIOLATION",
    "OBSTRUCTION",
)
PC = {name: i for i, name in enumerate(PENALTY_CATEGORIES)}

TAX_VIOLATIONS = (
    "EVASION",
    "ARREARS_EVASION",
    "REFUND_FRAUD",
    "FALSE_INVOICE",
    "RESISTANCE",
    "INCENTIVE_FRAUD",
)
TV = {name: i for i, name in enumerate(TAX_VIOLATIONS)}

TAX_LEVELS = ("A", "B", "M", "C", "D")
TL = {name: i for i, name in enumerate(TAX_LEVELS)}

ADMIN_MATTERS = (
    "FALSE_ADVERTISING",
    "PRODUCT_QUALITY",
    "IP_INFRINGEMENT",
    "PRICING",
    "UNLICENSED_OPERATION",
    "OTHER",
)
ADMIN_TYPES = ("WARNING", "FINE", "CONFISCATION", "SUSPENSION", "LICENCE_REVOKED")
AT = {name: i for i, name in enumerate(ADMIN_TYPES)}

CHANGE_FIELDS = (
    "LEGAL_REP",
    "ADDRESS",
    "REG_CAPITAL",
    "BUSINESS_SCOPE",
    "NAME",
    "SHAREHOLDER",
)

ADVERSE_KINDS = (
    "CUSTOMS_DISHONEST",
    "TAX_MAJOR_VIOLATION",
    "TAX_LEVEL_D",
    "SAFE_CLASS_C",
    "SAMR_ABNORMAL_LIST",
    "SAMR_SERIOUS_LIST",
)
AK = {name: i for i, name in enumerate(ADVERSE_KINDS)}
