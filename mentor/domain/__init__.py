"""The domain model: items, skills, prerequisites and task spaces."""

from mentor.domain.loaders import load_domain, load_domain_csv, load_junyi, save_domain
from mentor.domain.model import Domain, Item
from mentor.domain.task_space import Box

__all__ = ["Box", "Domain", "Item", "load_domain", "load_domain_csv", "load_junyi", "save_domain"]
